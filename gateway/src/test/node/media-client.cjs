// A telephony platform's side of the two protocols, on the `ws` package (Debian's node-ws, or npm's
// ws): plays real 8 kHz PCM16 WAV files as Twilio Media Streams or Genesys AudioHook (v2) would send
// them, with its own WAV reader and G.711 mu-law encoder, and writes the mu-law bytes it sent per
// channel to <out>.0.ulaw and <out>.1.ulaw so that the test can compare them with the Kafka records.
//
// usage: node media-client.cjs twilio|audiohook <ws url> <call id> <wav channel 0> <wav channel 1> <out prefix>
// Prints one JSON line {"sent": <messages>, "closeCode": <code>, "server": [<server text messages>]}.
'use strict';
const fs = require('fs');
const WebSocket = require('ws');

const [mode, url, callId, wav0, wav1, outPrefix] = process.argv.slice(2);
if (!outPrefix || (mode !== 'twilio' && mode !== 'audiohook')) {
  console.error('usage: node media-client.cjs twilio|audiohook <url> <call id> <wav0> <wav1> <out prefix>');
  process.exit(2);
}

function readPcm16(file) {
  const b = fs.readFileSync(file);
  if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') throw new Error(file + ': not a WAV file');
  let at = 12, fmt = null, data = null;
  while (at + 8 <= b.length) {
    const id = b.toString('ascii', at, at + 4), size = b.readUInt32LE(at + 4);
    if (id === 'fmt ') fmt = { format: b.readUInt16LE(at + 8), channels: b.readUInt16LE(at + 10), rate: b.readUInt32LE(at + 12), bits: b.readUInt16LE(at + 22) };
    if (id === 'data') data = b.subarray(at + 8, Math.min(b.length, at + 8 + size));
    at += 8 + size + (size & 1);
  }
  if (!fmt || !data || fmt.format !== 1 || fmt.channels !== 1 || fmt.rate !== 8000 || fmt.bits !== 16) throw new Error(file + ': not 8 kHz mono PCM16');
  const out = new Int16Array(data.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = data.readInt16LE(2 * i);
  return out;
}

// G.711 mu-law (ITU-T G.711, bias 0x84, clip 32635).
function ulaw(sample) {
  let s = sample, sign = 0;
  if (s < 0) { s = -s; sign = 0x80; }
  if (s > 32635) s = 32635;
  s += 0x84;
  let exp = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exp > 0; mask >>= 1) exp--;
  const mant = (s >> (exp + 3)) & 0x0f;
  return ~(sign | (exp << 4) | mant) & 0xff;
}

const pcm = [readPcm16(wav0), readPcm16(wav1)];
const n = Math.min(pcm[0].length, pcm[1].length) - Math.min(pcm[0].length, pcm[1].length) % 160; // whole 20 ms frames
const mu = pcm.map(p => Uint8Array.from(p.subarray(0, n), ulaw));
fs.writeFileSync(outPrefix + '.0.ulaw', mu[0]);
fs.writeFileSync(outPrefix + '.1.ulaw', mu[1]);

const ws = new WebSocket(url);
const server = [];
let sent = 0;
const send = (m) => new Promise((resolve, reject) => { ws.send(m, (e) => (e ? reject(e) : resolve())); sent++; });
const nextMessage = (type) => new Promise((resolve) => {
  const f = (data, isBinary) => { if (!isBinary && JSON.parse(data.toString()).type === type) { ws.off('message', f); resolve(); } };
  ws.on('message', f);
});
ws.on('message', (data, isBinary) => { if (!isBinary) server.push(JSON.parse(data.toString())); });
ws.on('close', (code) => { console.log(JSON.stringify({ sent, closeCode: code, server })); process.exit(0); });
ws.on('error', (e) => { console.error('websocket error: ' + e.message); process.exit(1); });

async function twilio() {
  const streamSid = 'MZ' + callId.slice(2);
  let seq = 0;
  await send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
  await send(JSON.stringify({ event: 'start', sequenceNumber: String(++seq), start: { accountSid: 'AC' + '0'.repeat(32), streamSid, callSid: callId,
    tracks: ['inbound', 'outbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: { campaign: 'spring' } }, streamSid }));
  const tracks = ['inbound', 'outbound'];
  for (let k = 0; k * 160 < n; k++) {
    for (let ch = 0; ch < 2; ch++) {
      const payload = Buffer.from(mu[ch].subarray(k * 160, Math.min(n, (k + 1) * 160))).toString('base64');
      await send(JSON.stringify({ event: 'media', sequenceNumber: String(++seq), media: { track: tracks[ch], chunk: String(k + 1), timestamp: String(k * 20), payload }, streamSid }));
    }
  }
  await send(JSON.stringify({ event: 'stop', sequenceNumber: String(++seq), streamSid, stop: { accountSid: 'AC' + '0'.repeat(32), callSid: callId } }));
  ws.close(1000);
}

async function audiohook() {
  const id = '8c5e3b1a-4d2f-4a6b-9c7d-0e1f2a3b4c5d';
  let seq = 0, serverseq = 0, positionMs = 0;
  const msg = (type, parameters) => JSON.stringify({ version: '2', id, type, seq: ++seq, serverseq, position: 'PT' + (positionMs / 1000).toFixed(3) + 'S', parameters });
  const opened = nextMessage('opened');
  await send(msg('open', { organizationId: 'd7934305-0972-4844-938e-9060eef73d05', conversationId: callId,
    participant: { id: '883efee8-3d6c-4537-b500-6d7ca4b92fa0', ani: '+15555551234', aniName: 'node', dnis: '+18005556789' },
    media: [{ type: 'audio', format: 'PCMU', channels: ['external', 'internal'], rate: 8000 }], language: 'en-US' }));
  await opened;
  serverseq = 1;
  for (let at = 0; at < n; at += 1600) {           // 200 ms stereo frames
    const len = Math.min(1600, n - at), frame = Buffer.alloc(2 * len);
    for (let i = 0; i < len; i++) { frame[2 * i] = mu[0][at + i]; frame[2 * i + 1] = mu[1][at + i]; }
    await send(frame);
    positionMs += len / 8;
    if (at === 1600 * 3) { const pong = nextMessage('pong'); await send(msg('ping', {})); await pong; serverseq++; }
  }
  const closed = nextMessage('closed');
  await send(msg('close', { reason: 'end' }));
  await closed;
  ws.close(1000);
}

ws.on('open', () => (mode === 'twilio' ? twilio() : audiohook()).catch((e) => { console.error(e.stack); process.exit(1); }));
