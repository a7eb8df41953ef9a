// Self-custody: the organisation's key lives in this browser only, encrypted (an Ethereum JSON
// keystore, scrypt) in localStorage; unlocked into memory for a session. It signs the API's login
// challenge (EIP-191) and EIP-712 ForwardRequests that the API relays (POST /relay).
import { Interface, Wallet, encryptKeystoreJson, getAddress, hexlify, randomBytes } from "../vendor/ethers.min.js";
import { api } from "./api.js";

const PREFIX = "vc.keystore.";
// scrypt N = 2^15 (r 8, p 1): ~32 MiB and well under a second a try in a browser
const SCRYPT = { N: 1 << 15, r: 8, p: 1 };
let unlocked = null;

export function storedAccounts() {
  return Object.keys(localStorage).filter((k) => k.startsWith(PREFIX)).map((k) => k.slice(PREFIX.length));
}

async function store(wallet, password) {
  const json = await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, password, { scrypt: SCRYPT });
  localStorage.setItem(PREFIX + wallet.address, json);
  return wallet.address;
}

export async function createKey(password) {
  return store(Wallet.createRandom(), password);
}

// A private key (0x + 64 hex) or a JSON keystore (with its own password `sourcePassword`)
export async function importKey(secret, password, sourcePassword = password) {
  const text = secret.trim();
  const wallet = text.startsWith("{") ? await Wallet.fromEncryptedJson(text, sourcePassword) : new Wallet(text);
  return store(wallet, password);
}

export function forget(address) {
  localStorage.removeItem(PREFIX + getAddress(address));
}

export async function unlock(address, password) {
  const json = localStorage.getItem(PREFIX + getAddress(address));
  if (!json) throw new Error(`no key ${address} in this browser`);
  unlocked = await Wallet.fromEncryptedJson(json, password);
  return unlocked;
}

export function lock() {
  unlocked = null;
}

export function isUnlocked() {
  return unlocked !== null;
}

// EIP-191 login: a challenge signed by the unlocked key → a bearer token
export async function login() {
  const challenge = await api.public("POST", "/auth/challenge", { account: unlocked.address });
  const signature = await unlocked.signMessage(challenge.text);
  return api.public("POST", "/auth/token", { challenge_id: challenge.challenge_id, signature });
}

const PROTOCOL = new Interface([
  "function applyForVouchers(uint64 programId, uint128 units, bytes32 requestId)",
  "function placeOrder(uint64 serviceId, uint32 quantity, uint64 programId, uint128 units, uint128 ownFunds, bytes32 requestId)",
  "function cancel(uint64 orderId)",
  "function confirm(uint64 orderId)",
  "function dispute(uint64 orderId, bytes32 reasonHash)",
]);

export function requestId() {
  return hexlify(randomBytes(32));
}

// Signs `fn(args)` on contract `target` ("programs" or "orders") as a ForwardRequest and has the
// API relay it; the chain sees the organisation's own account as the caller.
export async function relay(target, fn, args) {
  if (!unlocked) throw new Error("the key is locked: log in again");
  const tpl = await api.get("/relay/template");
  const message = {
    from: tpl.account,
    to: tpl.contracts[target],
    value: 0,
    gas: 2000000,
    nonce: tpl.nonce,
    deadline: tpl.chain_time + 600,
    data: PROTOCOL.encodeFunctionData(fn, args),
  };
  const signature = await unlocked.signTypedData(tpl.domain, { ForwardRequest: tpl.types.ForwardRequest }, message);
  const request = { types: tpl.types, domain: tpl.domain, primaryType: "ForwardRequest", message };
  return api.send("/relay", { request, signature });
}
