#!/usr/bin/env node
/**
 * Issue 12 item 3: the MobileNet paper's trade-offs (Howard et al. 2017, Tables 4-8), measured.
 * The mult-add and parameter columns come from the `stats` counter (src/arch/paper.ts sets each
 * printed figure beside its count); the latency is measured here, in this process, on random-
 * weight models from buildMobileNetV1 (1000 classes, seed 1), one thread, kernels 'auto' (simd
 * in Node). Every configuration is warmed up >= --warmup-ms (V8 re-optimises hot wasm), then all
 * are timed in interleaved rounds (each round runs every model for ~--round-ms), and a latency is
 * the median of its round medians: load from other processes hits all configurations alike.
 * --metric cpu reports CPU time per run instead of wall time, for a loaded machine.
 * A per-layer profile (MobileNet.profile) of 1.0/224, 0.25/128 and Conv MobileNet says where
 * latency does not follow mult-adds. Writes bench/PAPER.md, bench/paper/latency.svg and
 * bench/paper/results.json.
 *
 *   node bench/paper.mjs                 # the full run (6.5 min on the 2-vCPU VM at load 10-14; its warm-up alone is 54 x 3 s)
 *   node bench/paper.mjs --quick         # 0.5 s warm-up, 3 rounds, no uint8 (~1.5 min; not for publishing)
 *   node bench/paper.mjs --replot        # redraw the SVG from bench/paper/results.json
 *   options: --warmup-ms 3000 --rounds 7 --round-ms 150 --precisions float32,int8,uint8 --metric wall|cpu
 *            --out bench/PAPER.md --svg bench/paper/latency.svg --json bench/paper/results.json
 *
 * Needs dist/ (`npm run build`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import os from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const quick = argv.includes('--quick');
const warmupMs = Number(opt('warmup-ms', quick ? 500 : 3000));
const rounds = Number(opt('rounds', quick ? 3 : 7));
const roundMs = Number(opt('round-ms', quick ? 60 : 150));
/** what a latency is: wall time per run, or CPU time per run (process.cpuUsage; less disturbed by other processes on a loaded machine) */
const metric = opt('metric', 'wall');
if (metric !== 'wall' && metric !== 'cpu') throw new Error(`--metric must be wall or cpu, got ${metric}`);
const precisions = opt('precisions', quick ? 'float32,int8' : 'float32,int8,uint8').split(',');
const outMd = resolve(opt('out', join(here, 'PAPER.md')));
const outSvg = resolve(opt('svg', join(here, 'paper', 'latency.svg')));
const outJson = resolve(opt('json', join(here, 'paper', 'results.json')));
for (const p of precisions) if (!['float32', 'int8', 'uint8'].includes(p)) throw new Error(`--precisions: unknown precision ${p}`);
if (!(rounds >= 1 && warmupMs >= 0 && roundMs > 0)) throw new Error('--rounds must be >= 1, --warmup-ms >= 0, --round-ms > 0');

const dist = (p) => {
  const file = join(root, 'dist', p);
  if (!existsSync(file)) throw new Error(`${file} missing: run npm run build first`);
  return import(pathToFileURL(file).href);
};
const { paperRows, atPrecision } = await dist('arch/paper.js');
const { buildMobileNetV1, mobilenetV1Layers } = await dist('arch/mobilenet.js');
const { loadModel } = await dist('node.js');
const { randomInput } = await dist('cli/bench.js');

const started = performance.now();
const loadAtStart = os.loadavg()[0];
const CLASSES = 1000;
const ALPHAS = [1, 0.75, 0.5, 0.25];
const RESOLUTIONS = [224, 192, 160, 128];
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const log = (...a) => console.error(...a);

// ---------------------------------------------------------------------------------------------
// Configurations: the alpha x resolution grid (Tables 6-7) and the two variants (Tables 4-5)

const alphaText = (a) => (Number.isInteger(a) ? a.toFixed(1) : String(a));
const configs = [
  ...ALPHAS.flatMap((alpha) => RESOLUTIONS.map((resolution) => ({ key: `${alphaText(alpha)}/${resolution}`, alpha, resolution, variant: {} }))),
  { key: 'Conv MobileNet', alpha: 1, resolution: 224, variant: { convolution: 'full' } },
  { key: 'Shallow MobileNet', alpha: 1, resolution: 224, variant: { shallow: true } },
];
for (const c of configs) c.arch = mobilenetV1Layers(c.alpha, c.resolution, CLASSES, c.variant);
const configOf = (key) => configs.find((c) => c.key === key);

if (argv.includes('--replot')) {
  // redraw the SVG from a previous run's results.json, without measuring
  const r = JSON.parse(readFileSync(outJson, 'utf8'));
  const ms = (l) => (r.metric === 'cpu' ? l.cpuMs : l.wallMs);
  const measured = r.latency.map((l) => ({ key: l.config, precision: l.precision, macs: l.macs, ms: ms(l), variant: l.variant }));
  const used = [...new Set(measured.map((m) => m.precision))];
  writeFileSync(outSvg, plot(measured, { kernels: r.kernels, precisions: used, metric: r.metric, node: r.node }));
  log(`wrote ${relative(root, outSvg)} from ${relative(root, outJson)}`);
  process.exit(0);
}

const entries = [];
for (const c of configs) {
  for (const precision of precisions) {
    const graph = buildMobileNetV1({ alpha: c.alpha, resolution: c.resolution, precision, classes: CLASSES, seed: 1, ...c.variant });
    const net = await loadModel(graph, { kernels: 'auto' });
    entries.push({ config: c, precision, net, input: randomInput(net), roundMedians: [], cpuPerRun: [] });
  }
  log(`loaded ${c.key}`);
}
const kernels = entries[0].net.info.kernels;

// ---------------------------------------------------------------------------------------------
// Warm-up, then interleaved rounds

for (const e of entries) {
  const until = performance.now() + warmupMs;
  const t0 = performance.now();
  let n = 0;
  while (performance.now() < until || n < 3) {
    e.net.run(e.input);
    n++;
  }
  e.estimate = (performance.now() - t0) / n;
}
log(`warmed up ${entries.length} models in ${((performance.now() - started) / 1000).toFixed(0)} s`);

for (let r = 0; r < rounds; r++) {
  // rotate the order each round so no configuration always follows the same one
  const order = entries.map((_, i) => entries[(i + r * 7) % entries.length]);
  for (const e of order) {
    const runs = Math.max(1, Math.min(100, Math.round(roundMs / e.estimate)));
    const times = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      e.net.run(e.input);
      times.push(performance.now() - t);
    }
    const cpu = process.cpuUsage(cpu0);
    e.roundMedians.push(median(times));
    e.cpuPerRun.push((cpu.user + cpu.system) / 1000 / runs);
    e.estimate = median(times);
  }
  log(`round ${r + 1}/${rounds}`);
}
for (const e of entries) {
  e.wallMs = median(e.roundMedians);
  e.cpuMs = median(e.cpuPerRun);
  e.ms = metric === 'cpu' ? e.cpuMs : e.wallMs;
}
const latency = (key, precision) => entries.find((e) => e.config.key === key && e.precision === precision)?.ms;

// ---------------------------------------------------------------------------------------------
// Per-layer profiles: which layer kinds take the time

/** the arch layer's kind for the profile, with the stem apart from the other full convs */
const archKind = (l) => (l.name === 'Conv2d_0' ? 'stem conv' : l.kind === 'conv' ? 'full 3x3 conv' : l.kind);
const KIND_ORDER = ['stem conv', 'depthwise', 'pointwise', 'full 3x3 conv', 'classifier', 'other'];

/** a step's conv layers: a fused depthwise + pointwise step runs two */
const convOpsOf = (step) => step.op.split('+').filter((o) => /conv2d/.test(o)).length;

/**
 * Profile a model and match its steps to the architecture's counted layers in order (the plan
 * keeps the op order; a fused step takes as many layers as it runs convs).
 */
/** the steps matched to the architecture's counted layers in order (the plan keeps the op order; a fused step takes as many layers as it runs convs) */
function matchSteps(steps, config) {
  const counted = config.arch.layers.filter((l) => l.kind !== 'avgpool' && l.kind !== 'softmax');
  let j = 0;
  const matched = steps.map((s) => {
    const layers = counted.slice(j, (j += convOpsOf(s)));
    return { step: s, layers, macs: layers.reduce((t, l) => t + l.macs, 0) };
  });
  if (j !== counted.length) throw new Error(`${config.key}: the profile's conv steps cover ${j} of ${counted.length} layers`);
  return { steps, matched, stepMs: steps.reduce((t, s) => t + s.ms, 0) };
}

/**
 * Profiles of several models taken in interleaved rounds (each round profiles every model for
 * ~budget ms, one timed run per profile call, so every step gets a sample per run). A step's
 * time is the median of its samples; with --metric cpu (a loaded machine) each sample is scaled
 * by the CPU / wall ratio of its profile call and a step's time is their mean: time lost to other
 * processes falls on a step in proportion to its length, so the scaled mean estimates its CPU
 * time, and the steps sum to about a run's CPU time.
 */
function profileRounds(models, budgetMs) {
  const samples = models.map(() => null);
  for (let r = 0; r < rounds; r++) {
    models.forEach(({ net, ms }, i) => {
      for (let k = Math.max(1, Math.round(budgetMs / (2 * ms))); k > 0; k--) {
        const input = randomInput(net);
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        // profile(input, 1): one untimed run, then one timed
        const steps = net.profile(input, 1);
        const cpu = process.cpuUsage(cpu0);
        const scale = metric === 'cpu' ? Math.min(1, (cpu.user + cpu.system) / 1000 / (performance.now() - t0)) : 1;
        samples[i] ??= steps.map((st) => ({ ...st, samples: [] }));
        steps.forEach((st, j) => samples[i][j].samples.push(st.ms * scale));
      }
    });
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const pick = metric === 'cpu' ? mean : median;
  return samples.map((steps) => steps.map(({ samples: xs, ...st }) => ({ ...st, ms: pick(xs), samples: xs.length })));
}

/**
 * The per-kind profile of a configuration. The runtime fuses each depthwise conv into the
 * pointwise conv after it (the depthwise output is never stored), so its time cannot be read
 * apart in the deployed model: the per-kind split comes from the same graph with every
 * depthwise output made a graph output (which stops the fusion), and the deployed (fused)
 * plan's steps are profiled too, in the same rounds.
 */
async function profileByKind(e) {
  const graph = buildMobileNetV1({ alpha: e.config.alpha, resolution: e.config.resolution, precision: e.precision, classes: CLASSES, seed: 1, ...e.config.variant });
  const dwOutputs = graph.ops.filter((op) => op.op === 'depthwise_conv2d').map((op) => op.output);
  const splitNet = dwOutputs.length ? await loadModel({ ...graph, outputs: [graph.output, ...dwOutputs] }, { kernels: 'auto' }) : null;
  if (splitNet) {
    const until = performance.now() + warmupMs;
    while (performance.now() < until) splitNet.profile(randomInput(splitNet), 1);
  }
  const models = [{ net: e.net, ms: e.wallMs }, ...(splitNet ? [{ net: splitNet, ms: e.wallMs }] : [])];
  const [deployedSteps, splitSteps] = profileRounds(models, quick ? 100 : 400);
  // what the fusion is worth: whole runs of the deployed and the unfused model, interleaved
  const whole = models.map(() => []);
  for (let r = 0; splitNet && r < rounds; r++) {
    models.forEach(({ net }, i) => {
      const inputs = [randomInput(net)];
      const runs = Math.max(1, Math.round(roundMs / e.wallMs));
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let k = 0; k < runs; k++) net.runAll(inputs);
      const cpu = process.cpuUsage(cpu0);
      whole[i].push(metric === 'cpu' ? (cpu.user + cpu.system) / 1000 / runs : (performance.now() - t0) / runs);
    });
  }
  splitNet?.dispose();
  const deployed = matchSteps(deployedSteps, e.config);
  const split = splitSteps ? matchSteps(splitSteps, e.config) : deployed;
  const kinds = new Map(KIND_ORDER.map((k) => [k, { layers: 0, macs: 0, ms: 0, elements: 0 }]));
  for (const { step, layers } of split.matched) {
    if (layers.length === 0) {
      kinds.get('other').layers++;
      kinds.get('other').ms += step.ms;
      continue;
    }
    const l = layers[0];
    const k = kinds.get(archKind(l));
    k.layers++;
    k.macs += l.macs;
    k.ms += step.ms;
    // values a layer must read or write at least once: input, output, weights
    k.elements += l.inputShape.reduce((a, b) => a * b, 1) + l.outputShape.reduce((a, b) => a * b, 1) + (l.params - l.outputShape[3]);
  }
  const fusedSteps = deployed.matched.filter((m) => m.layers.length > 1);
  const fusedMs = fusedSteps.reduce((t, m) => t + m.step.ms, 0);
  return { key: e.config.key, precision: e.precision, kinds, stepMs: split.stepMs, runMs: e.ms, deployed, fusedMs, fusedCount: fusedSteps.length, splitSteps: split.steps.length, wholeDeployed: median(whole[0]), wholeUnfused: splitNet ? median(whole[1]) : undefined };
}

const PROFILED = ['1.0/224', '0.25/128', 'Conv MobileNet'];
const profiles = [];
for (const key of PROFILED) {
  for (const precision of precisions.filter((p) => p !== 'uint8')) {
    profiles.push(await profileByKind(entries.find((e) => e.config.key === key && e.precision === precision)));
  }
}
log('profiled');
for (const e of entries) e.net.dispose();

// ---------------------------------------------------------------------------------------------
// Report

const rows = paperRows();
const M = (n, d = 1) => (n / 1e6).toFixed(d);
const ms = (x) => (x === undefined ? '–' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const perSec = (x) => (x === undefined ? '–' : (1000 / x).toFixed(x < 10 ? 0 : 1));
const pct = (x) => `${(100 * x).toFixed(1)}%`;
const gops = (macs, t) => ((2 * macs) / t / 1e6).toFixed(1);
const precisionCols = precisions.map((p) => `${p} ms`);
const table = (header, body) => [`| ${header.join(' | ')} |`, `|${header.map((h, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const readingText = {
  counted: 'the count',
  'rho-squared': 'paper Eq. 7: 224 count x (r/224)^2',
  'body-only': 'the conv body (no classifier / FC layers)',
  'not-reproduced': 'not reproduced by counting (see below)',
};
const rowOf = (model) => rows.find((r) => r.model === model);
const paperCell = (r) => `${r.paper.macs} / ${r.paper.params}`;
const countCell = (r) => `${M(r.counted.macs)} / ${M(r.counted.params, 2)}`;

const lines = [];
const L = (...xs) => lines.push(...xs);
L(
  '# The paper\'s trade-offs, measured',
  '',
  `MobileNet (Howard et al. 2017) Tables 4-8: the paper's mult-adds and parameters beside this library's count (the \`stats\` counter, src/arch/graph-stats.ts, over the architectures of src/arch/mobilenet.ts and src/arch/reference-nets.ts), and the latency of random-weight models of each configuration measured here.`,
  '',
  `Generated by \`node bench/paper.mjs${argv.length ? ' ' + argv.join(' ') : ''}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, one thread, ${kernels} kernels; warm-up ${warmupMs / 1000} s per model, ${rounds} interleaved rounds of ~${roundMs} ms per model; latency = ${metric === 'cpu' ? '**CPU time** per run (process.cpuUsage, the median of the round medians), chosen with --metric cpu because the machine was loaded: waiting for a CPU does not count, sharing caches still does; the wall-clock medians are in bench/paper/results.json' : 'wall-clock time per run, the median of the round medians'}. GOP/s counts a mult-add as 2 operations. Load average ${loadAtStart.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end. Models: 1000 classes, random weights (buildMobileNetV1, seed 1); int8 = per-channel weights as TFLite's full-integer models, uint8 = per-tensor as the 2018 quantized models.`,
  '',
  '## Counting convention',
  '',
  'One rule, the `stats` counter\'s: **mult-adds** = weights x output positions of every convolution, depthwise convolution and fully-connected layer, the classifier included (bias adds, activations, pooling, softmax: 0); **params** = weights + one bias per output channel (the batch-norm-folded model). At the paper\'s printed precision this gives 17 of the 20 figures of Tables 4-8 as they are. The other three are the paper\'s own shortcuts, each reproduced by a second reading of the same count: 1.0/160\'s 290 M is Eq. 7 of the paper (the 224 count x (160/224)^2 = 290.2; counted at 160, 290.7, because the 1x1 classifier does not shrink with the map); Conv MobileNet\'s 4866 M is its convolutional body (4866.3; with the classifier 4867.3, while its 29.3 M params include the classifier); VGG16\'s 15300 M is its 13 convolutions (15347 M; with its three fully-connected layers 15470 M). GoogLeNet\'s 1550 M and 6.8 M are not what its architecture (Szegedy et al. 2014, Table 1) counts to: 1583 M and 7.0 M here; 6.8 M is the sum of that paper\'s own table, whose rows do not all agree with its layer shapes (conv1 lists 2.7 K params for a 7x7x3x64 conv, 9.4 K). test/arch/paper.test.ts checks every figure.',
  '',
  table(
    ['model (paper table)', 'paper: M mult-adds / M params', 'counted here', 'paper\'s mult-adds from', 'reproduced'],
    rows.map((r) => {
      const ok = r.reading !== 'not-reproduced' && atPrecision(r.readingMacs, r.precision.macs) === r.paper.macs && atPrecision(r.counted.params, r.precision.params) === r.paper.params;
      const reading = r.reading === 'counted' ? readingText.counted : `${readingText[r.reading]}${r.reading === 'not-reproduced' ? '' : `: ${M(r.readingMacs)}`}`;
      return [`${r.model} (${r.table})`, paperCell(r), countCell(r), reading, ok ? 'yes' : 'no'];
    }),
  ),
  '',
);

// Table 4
const full = configOf('Conv MobileNet');
const base = configOf('1.0/224');
L('## Table 4: depthwise separable vs full convolutions', '');
const t4 = [full, base].map((c) => [c === full ? 'Conv MobileNet (full 3x3 convs)' : '1.0 MobileNet-224', M(c.arch.macs), M(c.arch.params, 2), ...precisions.map((p) => ms(latency(c.key, p)))]);
t4.push(['ratio full / separable', (full.arch.macs / base.arch.macs).toFixed(2) + 'x', (full.arch.params / base.arch.params).toFixed(2) + 'x', ...precisions.map((p) => (latency(full.key, p) / latency(base.key, p)).toFixed(2) + 'x')]);
L(table(['model', 'M mult-adds', 'M params', ...precisionCols], t4), '');
L(
  `Full convolutions cost ${(full.arch.macs / base.arch.macs).toFixed(1)}x the mult-adds and take ${precisions.map((p) => `${(latency(full.key, p) / latency(base.key, p)).toFixed(1)}x (${p})`).join(', ')} the time: ` +
    `the separable net runs at ${precisions.map((p) => `${gops(base.arch.macs, latency(base.key, p))}`).join(' / ')} GOP/s, the full-conv one at ${precisions.map((p) => `${gops(full.arch.macs, latency(full.key, p))}`).join(' / ')} GOP/s (${precisions.join(' / ')}; 1 mult-add = 2 ops).`,
  '',
);

// Table 5
const narrow = configOf('0.75/224');
const shallow = configOf('Shallow MobileNet');
L('## Table 5: narrow vs shallow', '');
L(
  table(
    ['model', 'M mult-adds', 'M params', ...precisionCols],
    [
      ['0.75 MobileNet-224 (narrow)', narrow],
      ['Shallow MobileNet (1.0, five 14x14x512 layers removed)', shallow],
      ['1.0 MobileNet-224, for reference', base],
    ].map(([name, c]) => [name, M(c.arch.macs), M(c.arch.params, 2), ...precisions.map((p) => ms(latency(c.key, p)))]),
  ),
  '',
  `The paper prefers the narrow net (68.4% vs 65.3% top-1 at about the same cost). Here, per mult-add: narrow ${precisions.map((p) => gops(narrow.arch.macs, latency(narrow.key, p))).join(' / ')} GOP/s, shallow ${precisions.map((p) => gops(shallow.arch.macs, latency(shallow.key, p))).join(' / ')} GOP/s (${precisions.join(' / ')}).`,
  '',
);

// Tables 6-7
L('## Tables 6 and 7: width multiplier x resolution', '');
L(
  table(
    ['alpha / resolution', 'M mult-adds', 'M params', 'paper M mult-adds / params', ...precisionCols, ...precisions.map((p) => `${p} images/s`)],
    configs
      .filter((c) => !c.key.includes('MobileNet'))
      .map((c) => {
        const paper = rows.find((r) => r.mobilenet && r.mobilenet.alpha === c.alpha && r.mobilenet.resolution === c.resolution && !r.mobilenet.variant.convolution && !r.mobilenet.variant.shallow);
        return [c.key, M(c.arch.macs), M(c.arch.params, 2), paper ? paperCell(paper) : '', ...precisions.map((p) => ms(latency(c.key, p))), ...precisions.map((p) => perSec(latency(c.key, p)))];
      }),
  ),
  '',
);

// Table 8
L('## Table 8: MobileNet vs GoogleNet vs VGG16', '');
L(
  table(
    ['model', 'M mult-adds (counted)', 'M params (counted)', 'paper', `float32 ms here`],
    ['1.0 MobileNet-224', 'GoogleNet', 'VGG 16'].map((m) => {
      const r = rowOf(m);
      return [m, M(r.counted.macs), M(r.counted.params, 2), paperCell(r), m === '1.0 MobileNet-224' ? ms(latency('1.0/224', 'float32')) : 'not run (random weights only for MobileNet)'];
    }),
  ),
  '',
  `Counted by the same counter (layerStats over a shape-only layer list: VGG16's 138 M weights are never allocated). At 1.0/224's measured float32 rate (${gops(base.arch.macs, latency('1.0/224', 'float32'))} GOP/s), VGG16's mult-adds alone would take about ${ms((latency('1.0/224', 'float32') * rowOf('VGG 16').counted.macs) / base.arch.macs)} ms and GoogLeNet's ${ms((latency('1.0/224', 'float32') * rowOf('GoogleNet').counted.macs) / base.arch.macs)} ms; not measured.`,
  '',
);

// Where latency does not follow mult-adds
L('## Where latency does not follow mult-adds', '');
L(
  `Per-layer profile (MobileNet.profile: each step timed separately; samples from ${rounds} interleaved rounds; a step's time is ${metric === 'cpu' ? 'the mean of its wall-time samples each scaled by the CPU / wall ratio of its run, an estimate of its CPU time on this loaded machine' : 'the median of its samples'}), grouped by layer kind. The runtime fuses each depthwise conv into the pointwise conv after it (the depthwise output is never stored), so the per-kind rows come from the same graph with the depthwise outputs made graph outputs, which keeps them apart; what the fusion saves follows each table. "values moved" is the least a layer must read or write (input + output + weights); mult-adds per value moved is its arithmetic intensity.`,
  '',
);
for (const key of PROFILED) {
  const ps = profiles.filter((p) => p.key === key);
  const totalMacs = configOf(key).arch.macs;
  L(`### ${key}`, '');
  const body = KIND_ORDER.filter((k) => ps[0].kinds.get(k).layers > 0).map((k) => {
    const g0 = ps[0].kinds.get(k);
    return [
      k,
      String(g0.layers),
      g0.macs ? `${pct(g0.macs / totalMacs)}` : '0',
      g0.macs ? (g0.macs / g0.elements).toFixed(1) : '–',
      ...ps.flatMap((p) => {
        const g = p.kinds.get(k);
        return [`${ms(g.ms)} (${pct(g.ms / p.stepMs)})`, g.macs ? gops(g.macs, g.ms) : '–'];
      }),
    ];
  });
  body.push(['all steps', '', '100%', '', ...ps.flatMap((p) => [ms(p.stepMs), gops(totalMacs, p.stepMs)])]);
  L(table(['layer kind', 'layers', 'share of mult-adds', 'mult-adds per value moved', ...ps.flatMap((p) => [`${p.precision} ms (share)`, `${p.precision} GOP/s`])], body), '');
  const fusedText = ps
    .filter((p) => p.fusedCount)
    .map((p) => `${p.precision} ${ms(p.wholeDeployed)} ms fused (${p.deployed.steps.length} steps) against ${ms(p.wholeUnfused)} ms unfused (${p.splitSteps} steps), ${pct(1 - p.wholeDeployed / p.wholeUnfused)} saved`);
  if (fusedText.length) L(`The deployed plan runs each depthwise conv fused into the pointwise conv after it (where the kernels have the pair). Whole runs, the two models interleaved (${metric === 'cpu' ? 'CPU' : 'wall'} time, median of ${rounds} rounds): ${fusedText.join('; ')}.`, '');
}

// the findings, with their numbers
const prof = (key, precision) => profiles.find((p) => p.key === key && p.precision === precision);
const findings = [];
for (const precision of precisions.filter((p) => p !== 'uint8')) {
  const p = prof('1.0/224', precision);
  const dw = p.kinds.get('depthwise');
  const pw = p.kinds.get('pointwise');
  findings.push(
    `- **Depthwise layers${dw.ms / p.stepMs > dw.macs / base.arch.macs ? ' run slower per mult-add' : ''}** (${precision}, 1.0/224): ${pct(dw.macs / base.arch.macs)} of the mult-adds and ${pct(dw.ms / p.stepMs)} of the time (unfused); they run at ${gops(dw.macs, dw.ms)} GOP/s against the pointwise layers' ${gops(pw.macs, pw.ms)}. A 3x3 depthwise layer does ${(dw.macs / dw.elements).toFixed(1)} mult-adds per value it must move, a pointwise one ${(pw.macs / pw.elements).toFixed(0)}: the pointwise GEMM reuses each loaded operand across a register tile, the depthwise loop loads, widens and requantizes every activation for 9 mult-adds. What bounds it here is instructions, not memory bandwidth: about 6 MB moved per 1.0/224 int8 run in 6 ms is ~1 GB/s against a 34-40 GB/s copy rate, and it spends ~90 wasm SIMD instructions per 8 channels of a pixel (measured with per-export timing for the issue 11 closing note).`,
  );
}
for (const precision of precisions.filter((p) => p !== 'uint8')) {
  const small = prof('0.25/128', precision);
  const big = prof('1.0/224', precision);
  const c = configOf('0.25/128');
  // fixed cost per call: the intercept of layer time against mult-adds over the small net's conv layers
  const speedup = latency('1.0/224', precision) / latency('0.25/128', precision);
  // every step pays the fixed cost of a call at least once, so the cheapest step bounds it
  const cheapest = small.deployed.steps.filter((st) => st.kernel !== 'none').reduce((x, y) => (y.ms < x.ms ? y : x));
  const share = (p, kind) => p.kinds.get(kind).ms / p.stepMs;
  const macsShare = (arch, kind) => arch.layers.filter((l) => l.kind === kind).reduce((t, l) => t + l.macs, 0) / arch.macs;
  const softmaxMs = (p) => p.deployed.steps.filter((st) => st.op === 'softmax').reduce((t, st) => t + st.ms, 0);
  const pwRange = (arch) => {
    const widths = arch.layers.filter((l) => l.kind === 'pointwise').map((l) => l.inputShape[3]);
    return `${Math.min(...widths)} to ${Math.max(...widths)} input`;
  };
  const spw = small.kinds.get('pointwise');
  const bpw = big.kinds.get('pointwise');
  findings.push(
    `- **Small nets** (${precision}): 0.25/128 has ${(base.arch.macs / c.arch.macs).toFixed(1)}x fewer mult-adds than 1.0/224 ${speedup < base.arch.macs / c.arch.macs ? 'but runs only' : 'and runs'} ${speedup.toFixed(1)}x faster (${gops(c.arch.macs, latency('0.25/128', precision))} vs ${gops(base.arch.macs, latency('1.0/224', precision))} GOP/s). ` +
      `${cheapest.ms * small.deployed.steps.length < 0.15 * small.deployed.stepMs ? 'The fixed cost of a call is not what slows it' : 'The fixed cost of a call may matter'}: the cheapest step (${cheapest.op}, ${cheapest.kernel}) takes ${(cheapest.ms * 1000).toFixed(1)} µs, which bounds it, so its ${small.deployed.steps.length} steps pay at most ${ms(cheapest.ms * small.deployed.steps.length)} ms of its ${ms(small.deployed.stepMs)} ms in per-call cost. The mix is: ` +
      `depthwise layers are ${pct(macsShare(c.arch, 'depthwise'))} of its mult-adds (1.0/224: ${pct(macsShare(base.arch, 'depthwise'))}; their cost grows with the channels, the pointwise layers' with their square) and ${pct(share(small, 'depthwise'))} of its time; ` +
      `the classifier, a 1000x${c.arch.layers.find((l) => l.kind === 'classifier').inputShape[3]} matrix-vector product using each weight once, is ${pct(macsShare(c.arch, 'classifier'))} of the mult-adds and ${pct(share(small, 'classifier'))} of the time, plus ${(softmaxMs(small) * 1000).toFixed(0)} µs of softmax over 1000 classes; ` +
      `and its pointwise GEMMs, with ${pwRange(c.arch)} channels (1.0/224: ${pwRange(base.arch)}), run at ${gops(spw.macs, spw.ms)} GOP/s against ${gops(bpw.macs, bpw.ms)} at 1.0/224.`,
  );
}
for (const precision of precisions.filter((p) => p !== 'uint8')) {
  const f = prof('Conv MobileNet', precision);
  const b = prof('1.0/224', precision);
  const fc = f.kinds.get('full 3x3 conv');
  const pw = b.kinds.get('pointwise');
  const dw = b.kinds.get('depthwise');
  const kernelsOf = (p, kind) => [...new Set(p.deployed.matched.filter((m) => m.layers.length === 1 && archKind(m.layers[0]) === kind).map((m) => m.step.kernel))].join(', ');
  const latencyRatio = latency(full.key, precision) / latency(base.key, precision);
  const macsRatio = full.arch.macs / base.arch.macs;
  findings.push(
    `- **Full convolutions** (${precision}): Conv MobileNet's 3x3 convs (kernel ${kernelsOf(f, 'full 3x3 conv')}) run at ${gops(fc.macs, fc.ms)} GOP/s, against ${gops(pw.macs, pw.ms)} for the separable net's pointwise layers and ${gops(dw.macs, dw.ms)} for its depthwise ones, so ${macsRatio.toFixed(1)}x the mult-adds take ${latencyRatio.toFixed(1)}x the time: ` +
      (latencyRatio > macsRatio
        ? 'here depthwise separable convolutions save even more time than arithmetic, because the 3x3 full conv runs slower per mult-add than the 1x1 GEMM that carries 95% of the separable net.'
        : 'here depthwise separable convolutions save less time than arithmetic, because the full conv runs faster per mult-add than the separable pair.'),
  );
}
const gridRates = (p) => configs.filter((c) => !c.key.includes('MobileNet')).map((c) => ({ key: c.key, rate: (2 * c.arch.macs) / latency(c.key, p) / 1e6 }));
for (const precision of precisions) {
  const g = gridRates(precision).sort((a, b) => b.rate - a.rate);
  const rate = (key) => g.find((x) => x.key === key).rate.toFixed(1);
  findings.push(`- Across the alpha x resolution grid (${precision}) the rate runs from ${g.at(-1).rate.toFixed(1)} GOP/s (${g.at(-1).key}) to ${g[0].rate.toFixed(1)} GOP/s (${g[0].key}); 1.0/224 ${rate('1.0/224')}, 0.25/128 ${rate('0.25/128')}. Were it constant, latency would follow mult-adds (the dashed line of the plot).`);
}
L(...findings, '');
L(
  '## Plot',
  '',
  `![latency against mult-adds](${relative(dirname(outMd), outSvg).split('\\').join('/')})`,
  '',
  'Log-log; one line per precision through the alpha x resolution grid (sorted by mult-adds), squares = Conv MobileNet (full 3x3 convolutions), diamonds = Shallow MobileNet; the dashed line is latency proportional to mult-adds through 1.0/224 float32.',
  '',
  `Elapsed: ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  '',
);

// ---------------------------------------------------------------------------------------------
// SVG plot: latency (ms) against mult-adds (M), log-log

/** The SVG of `measured`: [{ key, precision, macs, ms, variant }] (from this run, or results.json with --replot). */
function plot(measured, { kernels, precisions, metric, node }) {
  const W = 760;
  const H = 500;
  const pad = { left: 64, right: 24, top: 36, bottom: 52 };
  const points = measured.map((e) => ({ x: e.macs / 1e6, y: e.ms, e }));
  const decade = (v, f) => 10 ** f(Math.log10(v));
  const x0 = decade(Math.min(...points.map((p) => p.x)) * 0.8, Math.floor);
  const x1 = decade(Math.max(...points.map((p) => p.x)) * 1.25, Math.ceil);
  const y0 = decade(Math.min(...points.map((p) => p.y)) * 0.8, Math.floor);
  const y1 = decade(Math.max(...points.map((p) => p.y)) * 1.25, Math.ceil);
  const X = (v) => pad.left + ((Math.log10(v) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0))) * (W - pad.left - pad.right);
  const Y = (v) => H - pad.bottom - ((Math.log10(v) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0))) * (H - pad.top - pad.bottom);
  const colour = { float32: '#1f6fb4', int8: '#c8372d', uint8: '#2e8b3e' };
  const f = (n) => n.toFixed(1);
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">MobileNet v1 ${metric === 'cpu' ? 'CPU time' : 'latency'} against mult-adds (${kernels} kernels, one thread, Node ${node})</text>`);
  // grid and ticks at 1, 2, 5 x 10^k
  for (let d = x0; d <= x1; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m;
      if (v > x1) break;
      out.push(`<line x1="${f(X(v))}" y1="${pad.top}" x2="${f(X(v))}" y2="${H - pad.bottom}" stroke="${m === 1 ? '#bbb' : '#e6e6e6'}"/>`);
      out.push(`<text x="${f(X(v))}" y="${H - pad.bottom + 15}" text-anchor="middle">${v}</text>`);
    }
  }
  for (let d = y0; d <= y1; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m;
      if (v > y1) break;
      out.push(`<line x1="${pad.left}" y1="${f(Y(v))}" x2="${W - pad.right}" y2="${f(Y(v))}" stroke="${m === 1 ? '#bbb' : '#e6e6e6'}"/>`);
      out.push(`<text x="${pad.left - 6}" y="${f(Y(v) + 4)}" text-anchor="end">${Number(v.toPrecision(3))}</text>`);
    }
  }
  out.push(`<text x="${W / 2}" y="${H - 14}" text-anchor="middle" font-size="12">mult-adds (millions)</text>`);
  out.push(`<text transform="translate(16 ${H / 2}) rotate(-90)" text-anchor="middle" font-size="12">${metric === 'cpu' ? 'CPU time per run' : 'latency'} (ms, median)</text>`);
  // latency proportional to mult-adds through 1.0/224 float32
  const base = points.find((q) => q.e.key === '1.0/224' && q.e.precision === precisions[0]);
  const ref = base.y / base.x;
  out.push(`<line x1="${f(X(x0))}" y1="${f(Y(ref * x0))}" x2="${f(X(x1))}" y2="${f(Y(ref * x1))}" stroke="#888" stroke-dasharray="5 4"/>`);
  precisions.forEach((p, i) => {
    const grid = points.filter((q) => q.e.precision === p && !q.e.key.includes('MobileNet')).sort((a, b) => a.x - b.x);
    out.push(`<polyline fill="none" stroke="${colour[p]}" stroke-width="1.5" points="${grid.map((q) => `${f(X(q.x))},${f(Y(q.y))}`).join(' ')}"/>`);
    grid.forEach((q, n) => {
      out.push(`<circle cx="${f(X(q.x))}" cy="${f(Y(q.y))}" r="3" fill="${colour[p]}"/>`);
      // label the grid once, above the first precision's points (the top line), at two heights in turn: neighbours are close
      if (i === 0) out.push(`<text x="${f(X(q.x) - 3)}" y="${f(Y(q.y) - (n % 2 ? 17 : 6))}" text-anchor="end" fill="#333" font-size="9">${q.e.key}</text>`);
    });
    for (const q of points.filter((q) => q.e.precision === p && q.e.key.includes('MobileNet'))) {
      const cx = X(q.x);
      const cy = Y(q.y);
      out.push(
        q.e.variant.convolution === 'full'
          ? `<rect x="${f(cx - 4)}" y="${f(cy - 4)}" width="8" height="8" fill="${colour[p]}"/>`
          : `<path d="M${f(cx)} ${f(cy - 5)}L${f(cx + 5)} ${f(cy)}L${f(cx)} ${f(cy + 5)}L${f(cx - 5)} ${f(cy)}Z" fill="${colour[p]}"/>`,
      );
      // full conv stands alone (label to its left); shallow sits among the grid's 290-330 M points (label below right)
      const isFull = q.e.variant.convolution === 'full';
      if (i === 0) out.push(`<text x="${f(isFull ? cx - 7 : cx + 6)}" y="${f(isFull ? cy - 7 : cy + 16)}" text-anchor="${isFull ? 'end' : 'start'}" fill="#333" font-size="9" font-style="italic">${isFull ? 'full conv' : 'shallow'}</text>`);
    }
    // legend
    const ly = pad.top + 12 + i * 16;
    out.push(`<line x1="${pad.left + 12}" y1="${ly}" x2="${pad.left + 36}" y2="${ly}" stroke="${colour[p]}" stroke-width="2"/><text x="${pad.left + 42}" y="${ly + 4}">${p}</text>`);
  });
  const ly = pad.top + 12 + precisions.length * 16;
  out.push(`<line x1="${pad.left + 12}" y1="${ly}" x2="${pad.left + 36}" y2="${ly}" stroke="#888" stroke-dasharray="5 4"/><text x="${pad.left + 42}" y="${ly + 4}">proportional to mult-adds</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

mkdirSync(dirname(outSvg), { recursive: true });
mkdirSync(dirname(outJson), { recursive: true });
const measured = entries.map((e) => ({ key: e.config.key, precision: e.precision, macs: e.config.arch.macs, ms: e.ms, variant: e.config.variant }));
writeFileSync(outSvg, plot(measured, { kernels, precisions, metric, node: process.version }));
writeFileSync(outMd, lines.join('\n'));
const json = {
  command: `node bench/paper.mjs${argv.length ? ' ' + argv.join(' ') : ''}`,
  date: new Date().toISOString(),
  node: process.version,
  cpu: os.cpus()[0]?.model,
  kernels,
  metric,
  warmupMs,
  rounds,
  roundMs,
  loadAverage: [loadAtStart, os.loadavg()[0]],
  paper: rows,
  latency: entries.map((e) => ({ config: e.config.key, variant: e.config.variant, precision: e.precision, macs: e.config.arch.macs, params: e.config.arch.params, wallMs: e.wallMs, cpuMs: e.cpuMs, roundMedians: e.roundMedians, cpuPerRun: e.cpuPerRun })),
  profiles: profiles.map((p) => ({ config: p.key, precision: p.precision, splitStepMs: p.stepMs, runMs: p.runMs, kinds: Object.fromEntries(p.kinds), deployedSteps: p.deployed.steps, fusedMs: p.fusedMs, wholeDeployed: p.wholeDeployed, wholeUnfused: p.wholeUnfused })),
  elapsedS: (performance.now() - started) / 1000,
};
writeFileSync(outJson, JSON.stringify(json, null, 1) + '\n');
log(`wrote ${relative(root, outMd)}, ${relative(root, outSvg)}, ${relative(root, outJson)} in ${json.elapsedS.toFixed(0)} s`);
