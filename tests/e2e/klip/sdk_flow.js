// Drives the local stack with klip-sdk@2.3.3, unchanged, under Node 20.
// Config: one JSON argument {rest_url, alice, bob, contract, kip7, card_ids: [send, execute], list_eoa}.
// Prints one JSON line of results; exits non-zero when an assertion fails.
'use strict';
const assert = require('node:assert/strict');

globalThis.window = { navigator: { userAgent: '' } };  // the SDK reads these at load time
const KLIP_URL = 'https://a2a-api.klipwallet.com';
const config = JSON.parse(process.argv[2]);
const realFetch = globalThis.fetch;
const seen = [];
globalThis.fetch = (url, options) => {
  const target = String(url).replace(KLIP_URL, config.rest_url);
  seen.push(`${(options && options.method) || 'GET'} ${target.slice(config.rest_url.length)}`);
  return realFetch(target, options);
};
const sdk = require('klip-sdk');

async function page(path, body, session) {
  const headers = { 'Content-Type': 'application/json' };
  if (session) headers['X-Approval-Session'] = session;
  const res = await realFetch(config.rest_url + path, { method: 'POST', headers, body: JSON.stringify(body) });
  const data = await res.json();
  assert.equal(res.status, 200, `${path}: ${JSON.stringify(data)}`);
  return data;
}

async function approve(requestKey, who) {
  const { session } = await page('/a2a/api/login', { request_key: requestKey, login: who.email, password: who.password });
  return page('/a2a/api/approve', { request_key: requestKey }, session);
}

async function poll(requestKey) {
  for (let i = 0; i < 60; i++) {
    const res = await sdk.getResult(requestKey);
    assert.equal(res.request_key, requestKey);
    assert.equal(typeof res.expiration_time, 'number');
    if (['completed', 'canceled', 'error'].includes(res.status)) return res;
    assert.equal(res.result, undefined, 'no result while the request is open');
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`request ${requestKey} never finished`);
}

async function prepared(promise) {
  const res = await promise;
  assert.ok(!res.err && res.request_key, JSON.stringify(res));
  assert.equal(res.status, 'prepared');
  const first = await sdk.getResult(res.request_key);
  assert.equal(first.status, 'prepared');
  assert.equal('result' in first, false);
  return res.request_key;
}

(async () => {
  const { alice, bob, contract, kip7 } = config;
  const out = {};
  const bappName = 'SDK e2e';

  const bad = await sdk.prepare.auth({ bappName: '' });
  assert.equal(bad.code, 6401);
  assert.ok(bad.err);
  out.error_code = bad.code;

  let key = await prepared(sdk.prepare.auth({ bappName }));
  await approve(key, alice);
  let res = await poll(key);
  assert.equal(res.status, 'completed');
  assert.equal(res.result.klaytn_address, alice.address);
  out.auth = res;

  key = await prepared(sdk.prepare.sendKLAY({ bappName, from: alice.address, to: bob.address, amount: '1.5' }));
  await approve(key, alice);
  res = await poll(key);
  assert.equal(res.status, 'completed');
  assert.equal(res.result.status, 'success');
  assert.match(res.result.tx_hash, /^0x[0-9a-f]{64}$/);
  out.send_klay = res;

  key = await prepared(sdk.prepare.sendToken({ bappName, to: bob.address, amount: '2', contract: kip7 }));
  await page('/a2a/api/cancel', { request_key: key });
  res = await poll(key);
  assert.equal(res.status, 'canceled');
  assert.equal(res.result, undefined);
  out.send_token = res;

  key = await prepared(sdk.prepare.sendCard({ bappName, to: bob.address, id: String(config.card_ids[0]), contract }));
  await approve(key, alice);
  res = await poll(key);
  assert.equal(res.status, 'completed');
  assert.equal(res.result.status, 'success');
  out.send_card = res;

  const abi = JSON.stringify({ constant: false, inputs: [{ name: 'from', type: 'address' }, { name: 'to', type: 'address' },
    { name: 'tokenId', type: 'uint256' }], name: 'safeTransferFrom', outputs: [], payable: false, type: 'function' });
  const params = JSON.stringify([alice.address, bob.address, String(config.card_ids[1])]);
  key = await prepared(sdk.prepare.executeContract({ bappName, to: contract, value: '0', abi, params }));
  await approve(key, alice);
  res = await poll(key);
  assert.equal(res.status, 'completed');
  assert.equal(res.result.status, 'success');
  out.execute_contract = res;

  const message = 'Sign in to SDK e2e #' + Date.now();
  key = await prepared(sdk.prepare.signMessage({ bappName, value: message, from: alice.address }));
  await approve(key, alice);
  res = await poll(key);
  assert.equal(res.status, 'completed');
  assert.match(res.result.signature, /^0x[0-9a-f]{130}$/);
  out.sign_message = { ...res, message };

  const pages = [];
  const ids = [];
  let cursor = '';
  do {
    const list = await sdk.getCardList({ contract, eoa: config.list_eoa, cursor });
    assert.equal(typeof list.name, 'string');
    assert.equal(typeof list.symbol_img, 'string');
    assert.equal(typeof list.next_cursor, 'string');
    pages.push(list.cards.length);
    for (const card of list.cards) ids.push(card.card_id);
    cursor = list.next_cursor;
  } while (cursor);
  assert.deepEqual(pages, [100, 100, 50]);
  assert.equal(new Set(ids).size, 250);
  out.card_pages = pages;
  out.card_ids = ids;
  out.requests = seen;
  console.log(JSON.stringify(out));
})().catch((error) => {
  console.error(error && error.stack || error);
  process.exit(1);
});
