// A small PNG reader for the dashboard test: enough of the format
// (RFC 2083 / ISO 15948) to check a browser's screenshot: 8-bit grey, RGB,
// grey+alpha or RGBA, not interlaced. Returns {width, height, channels,
// pixels} with the filters undone; pixels holds width*height*channels bytes.
"use strict";
const zlib = require("zlib");

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS = { 0: 1, 2: 3, 4: 2, 6: 4 };

function paeth(a, b, c) {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function decode(buf) {
  if (buf.length < 8 || !buf.subarray(0, 8).equals(SIGNATURE)) throw new Error("not a PNG");
  let off = 8, width = 0, height = 0, depth = 0, type = -1, interlace = 0;
  const idat = [];
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32BE(off);
    const kind = buf.toString("latin1", off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (data.length !== len) throw new Error("truncated chunk " + kind);
    const crc = buf.readUInt32BE(off + 8 + len);
    if (zlib.crc32 && zlib.crc32(buf.subarray(off + 4, off + 8 + len)) >>> 0 !== crc)
      throw new Error("bad CRC in chunk " + kind);
    if (kind === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      depth = data[8];
      type = data[9];
      interlace = data[12];
    } else if (kind === "IDAT") {
      idat.push(data);
    } else if (kind === "IEND") {
      break;
    }
    off += 12 + len;
  }
  const channels = CHANNELS[type];
  if (!width || !height || depth !== 8 || !channels || interlace)
    throw new Error(`unsupported PNG: ${width}x${height} depth ${depth} type ${type} interlace ${interlace}`);
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length !== height * (stride + 1)) throw new Error("image data has the wrong size");
  const px = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = y * stride, prev = out - stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? px[out + i - channels] : 0;
      const b = y ? px[prev + i] : 0;
      const c = y && i >= channels ? px[prev + i - channels] : 0;
      let v = line[i];
      switch (filter) {
        case 0: break;
        case 1: v += a; break;
        case 2: v += b; break;
        case 3: v += (a + b) >> 1; break;
        case 4: v += paeth(a, b, c); break;
        default: throw new Error("bad filter " + filter + " on row " + y);
      }
      px[out + i] = v & 0xff;
    }
  }
  return { width, height, channels, pixels: px };
}

// What a screenshot shows, in numbers: the most common colour (the
// background), the share of pixels that differ from it, and how many
// distinct colours there are.
function summary(img) {
  const { width, height, channels, pixels } = img;
  const counts = new Map();
  const key = (i) => {
    let k = 0;
    for (let c = 0; c < Math.min(channels, 3); c++) k = k * 256 + pixels[i + c];
    return k;
  };
  for (let i = 0; i < pixels.length; i += channels) {
    const k = key(i);
    counts.set(k, (counts.get(k) || 0) + 1);
  }
  let bg = 0, bgCount = -1;
  for (const [k, n] of counts) if (n > bgCount) { bg = k; bgCount = n; }
  const total = width * height;
  return { background: bg, nonBackground: (total - bgCount) / total, colours: counts.size };
}

// The share of pixels that differ between two images of the same size.
function difference(a, b) {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) return 1;
  let n = 0;
  for (let i = 0; i < a.pixels.length; i += a.channels) {
    for (let c = 0; c < a.channels; c++)
      if (a.pixels[i + c] !== b.pixels[i + c]) { n++; break; }
  }
  return n / (a.width * a.height);
}

module.exports = { decode, summary, difference };
