// A program whose runtime nobody here wrote, for snapdump's real-program tests
// (tests/real_programs/real_programs_test.cpp): node with two worker_threads, a JavaScript heap
// of some size (V8 marks it MADV_DONTFORK), a Buffer and a 100 MiB WebAssembly.Memory, each
// holding a marker string. Run: node workers.js MARKER
//
// The protocol is snapdump_target's (tests/support/target_process.h), so TargetProcess drives it:
//   stdout  one JSON line once both workers block:
//           {"ready": true, "pid", "runtime", "blocked": [names], "markers": {text: copies},
//            "buffer_bytes", "wasm_bytes"}, then one JSON answer per command, nothing else.
//   stdin   "reset"      forget the longest heartbeat gap so far      -> {"reset": true}
//           "heartbeat"  the heartbeat's count and longest gap         -> {"beats", "max_stall_ns"}
//           "poke"       wake each worker through its own blocking call -> {"alive": [names]}
//           "exit" or end of input: exit 0.
'use strict';
const fs = require('fs');
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');

// A flat (sequential, one byte per character) string in this isolate's JavaScript heap: a
// concatenation would make a rope of the pieces, join copies them into one string.
function heapString(text) {
  return Array.from(text).join('');
}

if (!isMainThread) {
  const kept = heapString(`snapdump-js-worker<${workerData.marker}>`);
  const flag = new Int32Array(workerData.flag);
  if (workerData.index === 1) {
    // Blocked in Atomics.wait (a futex), woken by Atomics.notify from the main thread.
    parentPort.postMessage({ blocked: 1 });
    for (let seen = 0; ;) {
      Atomics.wait(flag, 0, seen);
      seen = Atomics.load(flag, 0);
      parentPort.postMessage({ alive: 'sd-worker-wait', kept: kept.length });
    }
  } else {
    // Idle in its own event loop (epoll_wait), woken by a message.
    parentPort.on('message', () => parentPort.postMessage({ alive: 'sd-worker-loop', kept: kept.length }));
    parentPort.postMessage({ blocked: 2 });
  }
} else {
  const marker = process.argv[2];
  if (!marker) {
    console.error('usage: node workers.js MARKER');
    process.exit(2);
  }
  const reply = (answer) => fs.writeSync(1, JSON.stringify(answer) + '\n');

  // The markers under prefixes the command line does not hold, built at run time: finding them
  // proves the JavaScript heap, the Buffer and the WebAssembly memory were dumped.
  const jsMarker = heapString(`snapdump-js-heap<${marker}>`);
  const jsCopies = 20000;
  // About 20 MiB of JavaScript objects, each holding its own flat copy of the marker.
  const ballast = [];
  for (let i = 0; i < jsCopies; i++) ballast.push({ i, text: heapString(`${jsMarker}${'.'.repeat(900)}${i}`) });

  // Outside the JavaScript heap: a Buffer (node's array buffer allocator, malloc) with every
  // page written so that it is resident, and a 100 MiB WebAssembly.Memory (its own reservation).
  const bufferMarker = Buffer.from(`snapdump-buffer<${marker}>`);
  const buffer = Buffer.alloc(32 << 20, 0x5a);
  let bufferCopies = 0;
  for (let at = 0; at + bufferMarker.length <= buffer.length; at += 1 << 20, bufferCopies++) bufferMarker.copy(buffer, at);
  const wasmMarker = Buffer.from(`snapdump-wasm<${marker}>`);
  const wasm = new WebAssembly.Memory({ initial: 1600, maximum: 1600 });  // 64 KiB pages: 100 MiB
  const wasmBytes = new Uint8Array(wasm.buffer);
  wasmBytes.fill(0xa5);
  let wasmCopies = 0;
  for (let at = 4096; at + wasmMarker.length <= wasmBytes.length; at += 1 << 20, wasmCopies++) wasmBytes.set(wasmMarker, at);

  // Reachable for the whole run, so no collection frees what a dump must hold.
  globalThis.keptForDumps = { jsMarker, ballast, buffer, wasm };

  // The heartbeat: a 1 ms interval on the main thread's event loop, keeping its longest gap
  // (CLOCK_MONOTONIC, so a stop counts even though no tick ran in it).
  let beats = 0;
  let maxGap = 0n;
  let last = process.hrtime.bigint();
  setInterval(() => {
    const now = process.hrtime.bigint();
    if (now - last > maxGap) maxGap = now - last;
    last = now;
    beats++;
  }, 1);

  const flag = new Int32Array(new SharedArrayBuffer(4));
  const names = ['sd-worker-wait', 'sd-worker-loop'];
  const workers = [1, 2].map((index) => new Worker(__filename, { workerData: { index, marker, flag: flag.buffer } }));
  let blocked = 0;
  let poked = null;  // {alive: Set, timer} while a poke waits for its answers
  workers.forEach((worker, k) => {
    worker.on('message', (m) => {
      if (m.blocked && ++blocked === workers.length) start();
      if (m.alive && poked) {
        poked.alive.add(m.alive);
        if (poked.alive.size === workers.length) finishPoke();
      }
    });
    worker.on('error', (e) => {
      console.error(`${names[k]}: ${e.stack}`);
      process.exit(1);
    });
  });

  // Commands are answered one at a time, in order: those that come while a poke waits for its
  // answers wait for it.
  const queued = [];
  function finishPoke() {
    clearTimeout(poked.timer);
    reply({ alive: [...poked.alive].sort() });
    poked = null;
    while (queued.length && !poked) command(queued.shift());
  }

  function command(line) {
    if (poked) {
      queued.push(line);
    } else if (line === 'reset') {
      maxGap = 0n;
      last = process.hrtime.bigint();
      reply({ reset: true });
    } else if (line === 'heartbeat') {
      reply({ beats, max_stall_ns: Number(maxGap) });
    } else if (line === 'poke') {
      poked = { alive: new Set(), timer: setTimeout(finishPoke, 5000) };
      Atomics.add(flag, 0, 1);
      Atomics.notify(flag, 0);
      workers[1].postMessage('poke');
    } else if (line === 'exit') {
      process.exit(0);
    } else {
      reply({ error: `unknown command ${line}` });
    }
  }

  function start() {
    reply({
      ready: true,
      pid: process.pid,
      runtime: `node ${process.version}`,
      blocked: names,
      markers: { [jsMarker]: jsCopies, [bufferMarker.toString()]: bufferCopies, [wasmMarker.toString()]: wasmCopies },
      buffer_bytes: buffer.length,
      wasm_bytes: wasmBytes.length,
    });
    let pending = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => {
      pending += chunk;
      for (let newline; (newline = pending.indexOf('\n')) >= 0;) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line) command(line);
      }
    });
    process.stdin.on('end', () => process.exit(0));
  }
}
