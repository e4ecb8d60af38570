/**
 * The MobileNet paper's (Howard et al. 2017) mult-add and parameter columns of Tables 4-8, as
 * printed, beside the same figures counted here by the `stats` counter (src/arch/graph-stats.ts
 * layerCost, through mobilenetV1Layers and the reference nets' layerStats). bench/paper.mjs
 * prints them with measured latency; test/arch/paper.test.ts checks them.
 *
 * One rule counts every row: mult-adds = weights x output positions of every conv, depthwise
 * conv and fully-connected layer, classifier included; params = weights + one bias per output
 * channel. At the paper's printed precision that rule gives 17 of its 20 figures. The other three
 * follow from how the paper got them, each checked by a second reading of the same count:
 * - 1.0 MobileNet-160, 290 M: the paper's Eq. 7 (cost scales by rho^2) applied to the 224 count,
 *   568.7 x (160/224)^2 = 290.2; counted at 160 it is 290.7 (the 1x1 classifier does not shrink
 *   with the map). 192 and 128 round the same either way.
 * - Conv MobileNet, 4866 M: the count without the classifier (4866.3); with it 4867.3. (Its
 *   29.3 M params include the classifier.)
 * - VGG16, 15300 M: its convolutions (15347 M); with the three fully-connected layers 15470 M.
 * GoogLeNet's 1550 M and 6.8 M are not what its architecture counts to (1583 M, 7.0 M by this
 * rule; 1498 M, 6.6 M with TF-slim's 3x3 in place of the 5x5 branch): 6.8 M is the sum of the
 * GoogLeNet paper's own Table 1, whose rows do not all match its layer shapes (conv1 lists 2.7 K
 * params for a 7x7x3x64 conv, 9.4 K). That row is reported, not claimed.
 */
import { mobilenetV1Layers, type ArchStats, type ArchVariant } from './mobilenet.js';
import { googlenetStats, vgg16Stats } from './reference-nets.js';
import type { GraphStats } from './graph-stats.js';

/** How the paper's figure relates to our count. */
export type PaperReading =
  /** the count itself, rounded to the paper's precision */
  | 'counted'
  /** the 224 count scaled by (resolution / 224)^2: the paper's Eq. 7 */
  | 'rho-squared'
  /** the convolutional body: the count without fully-connected layers and the 1x1 classifier */
  | 'body-only'
  /** the paper's figure is not reproduced by counting the architecture */
  | 'not-reproduced';

export interface PaperRow {
  /** the paper's table(s), e.g. 'Table 6' */
  table: string;
  model: string;
  /** MobileNet rows: the configuration (bench/paper.mjs builds and times it); null for GoogLeNet, VGG16 */
  mobilenet: { alpha: number; resolution: number; variant: ArchVariant } | null;
  /** as printed, in millions */
  paper: { macs: number; params: number };
  /** the unit of the printed figure's last digit, in millions (569 -> 1, 15300 -> 100, 4.2 -> 0.1) */
  precision: { macs: number; params: number };
  /** exact counts */
  counted: { macs: number; params: number };
  /** which reading of the count gives the paper's mult-adds (params are all 'counted' or not reproduced) */
  reading: PaperReading;
  /** mult-adds by that reading (exact, not rounded) */
  readingMacs: number;
}

/** A count rounded to the paper's printed precision, in millions (4_221_032 at 0.1 -> 4.2). */
export function atPrecision(count: number, unitMillions: number): number {
  const units = Math.round(count / 1e6 / unitMillions);
  // strip float noise from e.g. 42 * 0.1
  return Number((units * unitMillions).toPrecision(12));
}

const CLASSES = 1000;

/** a classifier layer: MobileNet's 1x1 conv (an architecture layer's kind) or a fully-connected op (the reference nets') */
const isClassifier = (l: { op?: string; kind?: string }) => l.op === 'fully_connected' || l.kind === 'classifier';
/** mult-adds of the convolutional body */
const withoutClassifier = (s: ArchStats | GraphStats) => (s.layers as { op?: string; kind?: string; macs: number }[]).filter((l) => !isClassifier(l)).reduce((t, l) => t + l.macs, 0);

interface Spec {
  table: string;
  model: string;
  alpha: number;
  resolution: number;
  variant?: ArchVariant;
  /** as printed: M mult-adds (to the unit), M params (to 0.1) */
  paper: [number, number];
  reading?: PaperReading;
}

/** The paper's MobileNet rows. */
const MOBILENET_SPECS: readonly Spec[] = [
  { table: 'Table 4', model: 'Conv MobileNet', alpha: 1, resolution: 224, variant: { convolution: 'full' }, paper: [4866, 29.3], reading: 'body-only' },
  { table: 'Tables 4, 6, 7, 8', model: '1.0 MobileNet-224', alpha: 1, resolution: 224, paper: [569, 4.2] },
  { table: 'Tables 5, 6', model: '0.75 MobileNet-224', alpha: 0.75, resolution: 224, paper: [325, 2.6] },
  { table: 'Table 5', model: 'Shallow MobileNet', alpha: 1, resolution: 224, variant: { shallow: true }, paper: [307, 2.9] },
  { table: 'Table 6', model: '0.5 MobileNet-224', alpha: 0.5, resolution: 224, paper: [149, 1.3] },
  { table: 'Table 6', model: '0.25 MobileNet-224', alpha: 0.25, resolution: 224, paper: [41, 0.5] },
  { table: 'Table 7', model: '1.0 MobileNet-192', alpha: 1, resolution: 192, paper: [418, 4.2] },
  { table: 'Table 7', model: '1.0 MobileNet-160', alpha: 1, resolution: 160, paper: [290, 4.2], reading: 'rho-squared' },
  { table: 'Table 7', model: '1.0 MobileNet-128', alpha: 1, resolution: 128, paper: [186, 4.2] },
];

/** Every row of the paper's Tables 4-8 with its counts (see the file comment). */
export function paperRows(): PaperRow[] {
  const rows: PaperRow[] = MOBILENET_SPECS.map((s) => {
    const variant = s.variant ?? {};
    const arch = mobilenetV1Layers(s.alpha, s.resolution, CLASSES, variant);
    const reading = s.reading ?? 'counted';
    const readingMacs =
      reading === 'rho-squared'
        ? mobilenetV1Layers(s.alpha, 224, CLASSES, variant).macs * (s.resolution / 224) ** 2
        : reading === 'body-only'
          ? withoutClassifier(arch)
          : arch.macs;
    return {
      table: s.table,
      model: s.model,
      mobilenet: { alpha: s.alpha, resolution: s.resolution, variant },
      paper: { macs: s.paper[0], params: s.paper[1] },
      precision: { macs: 1, params: 0.1 },
      counted: { macs: arch.macs, params: arch.params },
      reading,
      readingMacs,
    };
  });
  const reference = (model: string, s: GraphStats, paper: [number, number], precision: [number, number], reading: PaperReading): PaperRow => ({
    table: 'Table 8',
    model,
    mobilenet: null,
    paper: { macs: paper[0], params: paper[1] },
    precision: { macs: precision[0], params: precision[1] },
    counted: { macs: s.macs, params: s.params },
    reading,
    readingMacs: reading === 'body-only' ? withoutClassifier(s) : s.macs,
  });
  rows.push(reference('GoogleNet', googlenetStats(), [1550, 6.8], [10, 0.1], 'not-reproduced'));
  rows.push(reference('VGG 16', vgg16Stats(), [15300, 138], [100, 1], 'body-only'));
  return rows;
}
