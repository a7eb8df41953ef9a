// ethers.js against the node, with no special-casing: deploy, call, transact, decode a custom
// error and read logs. Usage: node drive.mjs URL PRIVATE_KEY ARTIFACT_JSON FORWARDER
// Prints one JSON object with what it saw (checked by tests/node/test_ethers.py).
import { readFileSync } from "node:fs";
import { ethers } from "ethers";

const [url, key, artifactPath, forwarder] = process.argv.slice(2);
const artifact = JSON.parse(readFileSync(artifactPath, "utf8"));
// The one option: ethers caches identical requests for 250 ms by default, so on a chain whose
// blocks come faster than that (this one, anvil/hardhat automine) a second transaction right
// after the first would reuse the cached "pending" nonce.
const provider = new ethers.JsonRpcProvider(url, undefined, { cacheTimeout: -1 });
provider.pollingInterval = 50;
const wallet = new ethers.Wallet(key, provider);
const out = {};

const network = await provider.getNetwork();
out.chainId = network.chainId.toString();

const factory = new ethers.ContractFactory(artifact.abi, artifact.bytecode, wallet);
const code = ethers.id("ETHERS-GOVERNOR");
const registry = await factory.deploy(forwarder, wallet.address, code, 110000);
await registry.waitForDeployment();
out.deployed = await registry.getAddress();
out.organisations = (await registry.organisationCount()).toString();

const issuer = ethers.Wallet.createRandom().address;
const issuerCode = ethers.id("ETHERS-ISSUER");
const tx = await registry.registerOrganisation(4, 310000, issuerCode, 10, 6510, ethers.ZeroHash, issuer);
const receipt = await tx.wait();
out.status = receipt.status;
out.txHash = receipt.hash;

const again = [4, 310000, issuerCode, 10, 6510, ethers.ZeroHash, ethers.Wallet.createRandom().address];
try {
  // a send fails in the signer's estimateGas: CALL_EXCEPTION with the revert data, which the
  // contract's interface decodes
  await registry.registerOrganisation(...again);
  out.customError = null;
} catch (err) {
  const parsed = err.code === "CALL_EXCEPTION" ? registry.interface.parseError(err.data) : null;
  out.customError = parsed ? { name: parsed.name, args: parsed.args.map(String) } : { error: String(err) };
}
try {
  // a static call goes through the contract, which decodes the error itself (err.revert)
  await registry.registerOrganisation.staticCall(...again);
  out.staticCallError = null;
} catch (err) {
  out.staticCallError = err.revert ? { name: err.revert.name, args: err.revert.args.map(String) } : { error: String(err) };
}

const logs = await registry.queryFilter(registry.filters.OrganisationRegistered(), 0, "latest");
out.logs = logs.map((l) => ({ tx: l.transactionHash, orgId: l.args.orgId.toString() }));
console.log(JSON.stringify(out));
provider.destroy();
