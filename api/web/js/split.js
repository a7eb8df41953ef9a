// The voucher / own-fund split of an order, exactly as ProgramManager.validateOrder and
// OrderBook._priceAndCheck enforce it (BigInt arithmetic, integer division like Solidity):
//   cap = price                                                 if price <= fullCoverThreshold
//       = threshold + (price - threshold) * shareBps / 10000    otherwise
//   units in [minUnits, maxUnits], units * faceValue <= cap, vouchers + own funds == price.

const BPS = 10000n;

export function maxVoucherValue(price, terms) {
  const p = BigInt(price);
  const threshold = BigInt(terms.full_cover_threshold);
  if (p <= threshold) return p;
  return threshold + ((p - threshold) * BigInt(terms.share_bps)) / BPS;
}

// The split for `units` vouchers (default: as many as the rule and the balance allow).
export function split(price, terms, heldUnits, units = null) {
  const p = BigInt(price);
  const face = BigInt(terms.face_value);
  const cap = maxVoucherValue(p, terms);
  let most = cap / face;
  if (most > BigInt(terms.max_units)) most = BigInt(terms.max_units);
  if (most > BigInt(heldUnits)) most = BigInt(heldUnits);
  const chosen = units === null ? most : BigInt(units);
  const voucherValue = chosen * face;
  const problems = [];
  if (chosen < BigInt(terms.min_units)) problems.push("split.belowMin");
  if (chosen > BigInt(terms.max_units)) problems.push("split.aboveMax");
  if (voucherValue > cap) problems.push("split.aboveShare");
  if (chosen > BigInt(heldUnits)) problems.push("split.notHeld");
  const ownFunds = voucherValue > p ? 0n : p - voucherValue;
  return { price: p, cap, maxUnits: most < 0n ? 0n : most, units: chosen, voucherValue, ownFunds, problems };
}
