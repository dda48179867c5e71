// viewer.test.cjs - the conversation viewer in headless Chromium (tests/browser/run.sh sets
// the stage and the environment). Checks, page by page: the search lists the conversations;
// the seed's bubbles are in order, on the right side, of the right content types, the agent
// marked, the refused message marked dead-lettered with the desk's status; no remote media
// is fetched until its link is clicked, and then only that one; the session end's user
// answer is on the other side, quoting the template; markup in a message stays text and no
// script of the page's data runs; the pages read the same without JavaScript, and break no
// rule of their Content-Security-Policy; "re-send from here" asks for confirmation and the
// token, then delivers exactly the messages from the chosen one on. A screenshot of each page
// goes to $SCREENSHOTS.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { chromium } = require('playwright-core');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const BASE = env('VIEWER_URL');
const TOKEN = env('VIEWER_TOKEN');
const SHOTS = env('SCREENSHOTS');
const DESK_OUT = env('DESK_OUT');
const REJECTED = env('REJECTED');
const seed = JSON.parse(fs.readFileSync(env('SEED'), 'utf8'));
const sessionEnd = JSON.parse(fs.readFileSync(env('SESSION_END'), 'utf8'));

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function step(text) {
  process.stdout.write(`ok: ${text}\n`);
}

// A small PNG (a gradient), what a remote image host answers in this test.
function png(width, height) {
  const table = new Int32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  });
  const crc = (buf) => {
    let c = -1;
    for (const byte of buf) c = table[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ -1) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + 3 * width);
    for (let x = 0; x < width; x++) {
      row[1 + 3 * x] = 40 + Math.floor(150 * x / width);
      row[2 + 3 * x] = 120 + Math.floor(100 * y / height);
      row[3 + 3 * x] = 200;
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0))]);
}

function deskLines() {
  return fs.readFileSync(DESK_OUT, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// A browser context of its own (a fresh profile), every request to another host than the
// viewer recorded and answered with the PNG, and the page's CSP violations collected.
async function open(name, options = {}) {
  const profile = path.join(env('PROFILE_DIR'), name);
  fs.mkdirSync(profile, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: env('CHROMIUM'), headless: true, args: ARGS,
    viewport: { width: 1000, height: 900 }, ...options,
  });
  const remote = [];
  const image = png(240, 150);
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') return route.continue();
    remote.push(url.href);
    return route.fulfill({ status: 200, contentType: 'image/png', body: image });
  });
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective));
  });
  const page = context.pages()[0] || await context.newPage();
  return { context, page, remote };
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function noViolations(page, what) {
  const violations = await page.evaluate(() => window.__csp || []);
  assert.deepEqual(violations, [], `${what}: the page broke its Content-Security-Policy`);
}

async function bubbles(page) {
  return page.$$eval('article.msg', (list) => list.map((a) => ({
    msgId: a.dataset.msgId, kind: a.dataset.kind, side: a.dataset.side, sender: a.dataset.sender,
  })));
}

// Where each bubble actually is: flush with the chat's left or right edge.
async function geometry(page) {
  return page.$$eval('article.msg .bubble', (list) => {
    const chat = document.querySelector('.chat').getBoundingClientRect();
    return list.map((b) => {
      const r = b.getBoundingClientRect();
      if (Math.abs(r.left - chat.left) < 2) return 'left';
      if (Math.abs(r.right - chat.right) < 2) return 'right';
      return 'center';
    });
  });
}

function conversationUrl(callId) {
  return `${BASE}/conversation?call_id=${encodeURIComponent(callId)}`;
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const { context, page, remote } = await open('main');
  page.setDefaultTimeout(30000);

  // The search: every conversation.
  await page.goto(`${BASE}/`);
  await page.click('form.search button[type=submit]');
  await page.waitForSelector('table.found');
  const listed = await page.$$eval('a.conversation-link', (links) => links.map((l) => l.textContent));
  assert.deepEqual(listed.slice().sort(), [seed.call_id, sessionEnd.call_id, 'xss-conv'].sort());
  await shot(page, 'search');
  await noViolations(page, 'search');
  step('the search lists the three conversations');

  // The seed: seven bubbles in order, sides, kinds, the agent, the dead letter.
  await page.click(`a.conversation-link:has-text("${seed.call_id}")`);
  await page.waitForSelector('article.msg');
  const seen = await bubbles(page);
  assert.deepEqual(seen.map((b) => b.msgId), seed.messages.map((m) => m.msg_id));
  assert.deepEqual(seen.map((b) => b.sender), seed.messages.map((m) => m.sender_type));
  assert.deepEqual(seen.map((b) => b.kind),
    ['template', 'text', 'image', 'file', 'interactive.button', 'interactive.list', 'text']);
  assert.deepEqual(seen.map((b) => b.side), Array(7).fill('left'));
  assert.deepEqual(await geometry(page), Array(7).fill('left'));
  assert.equal(await page.locator('article[data-sender="agent"] .badge.agent').count(), 1);
  assert.equal(await page.locator('details.unknown').count(), 0, 'a content type fell back to JSON');
  step('seed: 7 bubbles in order, all on the business side, the agent marked, every type rendered');

  const refused = page.locator(`article[data-msg-id="${REJECTED}"]`);
  const dead = refused.locator('.outcome[data-status="dead-lettered"]');
  assert.equal(await dead.count(), 1, 'the refused message is not marked dead-lettered');
  assert.match(await dead.innerText(), /desk answered HTTP 400/);
  assert.match(await dead.innerText(), /desk refused it \(HTTP 400\)/);
  const statuses = await page.$$eval('article.msg', (list) =>
    list.map((a) => a.querySelector('.outcome').dataset.status));
  assert.deepEqual(statuses, seed.messages.map((m) =>
    (m.msg_id === REJECTED ? 'dead-lettered' : 'delivered')));
  step('seed: the refused message dead-lettered with the desk\'s 400, the others delivered');

  // Media: nothing remote before a click; then the one clicked, as an image.
  await page.waitForLoadState('networkidle');
  assert.deepEqual(remote, [], 'remote media were fetched before any click');
  assert.equal(await page.locator('article.msg img').count(), 0);
  const imageLink = page.locator('article[data-kind="image"] a.remote');
  assert.match(await imageLink.innerText(), /Image on test-airudder-dmrobot\.oss-cn-hongkong\.aliyuncs\.com/);
  await imageLink.click();
  const img = page.locator('article[data-kind="image"] img.loaded-media');
  await img.waitFor();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
  assert.equal(remote.length, 1, `expected one remote request, got ${remote}`);
  assert.equal(new URL(remote[0]).hostname, 'test-airudder-dmrobot.oss-cn-hongkong.aliyuncs.com');
  assert.equal(await page.locator('article.msg img').count(), 1, 'more than the clicked image was loaded');
  assert.equal(page.url(), conversationUrl(seed.call_id), 'the click navigated away');
  await shot(page, 'seed');
  await noViolations(page, 'seed');
  step('seed: no media fetched until the click; then only the clicked image, in place');

  // The session end: system and template on one side, the user's button reply on the other,
  // quoting the template.
  await page.goto(conversationUrl(sessionEnd.call_id));
  const ended = await bubbles(page);
  assert.deepEqual(ended.map((b) => b.msgId), sessionEnd.messages.map((m) => m.msg_id));
  assert.deepEqual(ended.map((b) => b.kind), ['system', 'template', 'button']);
  assert.deepEqual(ended.map((b) => b.side), ['left', 'left', 'right']);
  assert.deepEqual(await geometry(page), ['left', 'left', 'right']);
  const quote = page.locator('article[data-kind="button"] blockquote.quote');
  assert.match(await quote.innerText(), /chatbot\s+Hi, tom, we will hold a party/);
  assert.equal(await page.locator('article[data-kind="button"] .choice').innerText(), 'no');
  assert.equal(await page.locator('.outcome[data-status="delivered"]').count(), 3);
  await shot(page, 'session-end');
  await noViolations(page, 'session end');
  step('session end: the user\'s answer on the other side, quoting the template; all delivered');

  // Markup in a message is text; nothing of it runs.
  await page.goto(conversationUrl('xss-conv'));
  const text = await page.locator('article[data-msg-id="xss-0"] .text').innerText();
  assert.equal(text, '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>');
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'the message\'s script ran');
  assert.equal(await page.locator('article img').count(), 0);
  await noViolations(page, 'markup');
  step('a message of markup shows as text, and nothing of it runs');

  // Without JavaScript the same bubbles are there.
  const plain = await open('no-js', { javaScriptEnabled: false });
  await plain.page.goto(conversationUrl(seed.call_id));
  assert.deepEqual((await bubbles(plain.page)).map((b) => b.msgId), seed.messages.map((m) => m.msg_id));
  assert.equal(await plain.page.locator('.outcome[data-status="dead-lettered"]').count(), 1);
  assert.deepEqual(plain.remote, []);
  await plain.context.close();
  step('without JavaScript: the same conversation, nothing remote');

  // Re-send from the list (the 6th message): a confirmation listing it and the agent's
  // message, the token, then exactly those two at the desk, in order.
  await page.goto(conversationUrl(seed.call_id));
  const from = seed.messages[5].msg_id;
  const before = deskLines().length;
  await page.locator(`article[data-msg-id="${from}"] form.resend button`).click();
  await page.waitForSelector('form.confirm-resend');
  const listedForResend = await page.$$eval('ol.to-resend li', (items) => items.length);
  assert.equal(listedForResend, 2);
  assert.equal(deskLines().length, before, 'something was sent before the confirmation');
  await shot(page, 'resend-confirm');
  await noViolations(page, 'confirmation');
  await page.fill('form.confirm-resend input[name=token]', TOKEN);
  await page.click('form.confirm-resend button[type=submit]');
  const result = page.locator('section.resend-result');
  await result.waitFor();
  assert.equal(await result.getAttribute('data-ok'), 'true');
  assert.equal(await result.getAttribute('data-sent'), '2');
  assert.equal(await result.getAttribute('data-delivered'), '2');
  assert.equal(await result.getAttribute('data-deadlettered'), '0');
  await shot(page, 'resend-result');
  await noViolations(page, 'result');
  const after = deskLines();
  assert.deepEqual(after.slice(before).map((l) => l.event.messages[0].msg_id),
    [seed.messages[5].msg_id, seed.messages[6].msg_id], 'the desk got other messages than the chosen ones');
  assert.ok(after.slice(before).every((l) => l.signature_ok), 're-sent unsigned');
  step('re-send from the 6th message: confirmed with the token, exactly the 6th and 7th delivered again');

  // The conversation now shows the re-send under those two.
  await page.click('a.back');
  await page.waitForSelector('article.msg');
  assert.equal(await page.locator('.outcome:has-text("Re-sent, delivered")').count(), 2);
  step('the page shows the re-sent deliveries from the delivery log');

  await context.close();
}

main().then(() => process.stdout.write('browser test passed\n'), (err) => {
  process.stderr.write(`FAIL: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
