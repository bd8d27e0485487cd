// Known answers for the PNG reader the dashboard test uses (png.js): images
// encoded here with each row filter (PNG spec, section 9) decode back to
// the same pixels; the summary and difference of constructed images.
// Run: node --test tests/web/png.test.js
"use strict";
const test = require("node:test");
const assert = require("node:assert");
const zlib = require("zlib");
const png = require("./png");

function chunk(kind, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(kind, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

function paeth(a, b, c) {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

// Encodes width x height pixels of `channels` (3 or 4), row y filtered
// with filters[y % filters.length].
function encode(width, height, channels, pixels, filters) {
  const stride = width * channels;
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const f = filters[y % filters.length];
    raw[y * (stride + 1)] = f;
    for (let i = 0; i < stride; i++) {
      const x = pixels[y * stride + i];
      const a = i >= channels ? pixels[y * stride + i - channels] : 0;
      const b = y ? pixels[(y - 1) * stride + i] : 0;
      const c = y && i >= channels ? pixels[(y - 1) * stride + i - channels] : 0;
      const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][f];
      raw[y * (stride + 1) + 1 + i] = (x - pred) & 0xff;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = channels === 4 ? 6 : 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", Buffer.alloc(0)),
  ]);
}

// A deterministic pattern with every byte value and sharp edges, so that
// each filter's predictor is exercised with wrap-around.
function pattern(width, height, channels) {
  const px = Buffer.alloc(width * height * channels);
  let s = 12345;
  for (let i = 0; i < px.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    px[i] = (i % 7 === 0) ? 255 : (s >> 16) & 0xff;
  }
  return px;
}

test("every row filter decodes to the encoded pixels", () => {
  for (const channels of [3, 4]) {
    for (const filters of [[0], [1], [2], [3], [4], [0, 1, 2, 3, 4]]) {
      const px = pattern(17, 11, channels);
      const img = png.decode(encode(17, 11, channels, px, filters));
      assert.strictEqual(img.width, 17);
      assert.strictEqual(img.height, 11);
      assert.strictEqual(img.channels, channels);
      assert.ok(img.pixels.equals(px), `channels ${channels} filters ${filters}`);
    }
  }
});

test("summary: background share and colours", () => {
  // 10 x 10 white with a 2 x 5 black bar and one red pixel.
  const px = Buffer.alloc(10 * 10 * 3, 255);
  for (let y = 0; y < 5; y++)
    for (let x = 0; x < 2; x++) px.fill(0, (y * 10 + x) * 3, (y * 10 + x) * 3 + 3);
  px[99 * 3 + 1] = 0;
  px[99 * 3 + 2] = 0;
  const sum = png.summary(png.decode(encode(10, 10, 3, px, [4])));
  assert.strictEqual(sum.background, 0xffffff);
  assert.strictEqual(sum.nonBackground, 11 / 100);
  assert.strictEqual(sum.colours, 3);
});

test("difference counts pixels that changed", () => {
  const a = pattern(8, 8, 4);
  const b = Buffer.from(a);
  b[0] ^= 1; // pixel 0
  b[4 * 9 + 3] ^= 0x80; // pixel 9, alpha only
  const ia = png.decode(encode(8, 8, 4, a, [0])), ib = png.decode(encode(8, 8, 4, b, [2]));
  assert.strictEqual(png.difference(ia, ia), 0);
  assert.strictEqual(png.difference(ia, ib), 2 / 64);
});

test("refuses what is not a PNG it reads", () => {
  assert.throws(() => png.decode(Buffer.from("GIF89a....")), /not a PNG/);
  const good = encode(4, 4, 3, pattern(4, 4, 3), [0]);
  const bad = Buffer.from(good);
  bad[40] ^= 0xff; // inside IDAT: the CRC no longer matches
  assert.throws(() => png.decode(bad), /CRC/);
  const trunc = good.subarray(0, 50);
  assert.throws(() => png.decode(trunc), /truncated|wrong size|unexpected end/);
});
