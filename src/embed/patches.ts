// SPDX-License-Identifier: MIT
/**
 * Essentia's VectorRealToTensor as TensorflowPredictMusiCNN configures it
 * (src/algorithms/standard/vectorrealtotensor.cpp): patches of 187 consecutive mel frames, a
 * new patch every 93 frames (patch p = frames [93p, 93p + 187)), and lastPatchMode "discard":
 * frames left over at the end that do not fill a patch are dropped. F frames give
 * floor((F - 187) / 93) + 1 patches when F >= 187, else none (Essentia then has no rows).
 *
 * Streaming: mel rows go in as they are computed; patches come out in batches of at most
 * `batchSize`, each a Float32Array of count × 187 × 96 (row-major, ready for a
 * [batch, 187, 96] tensor). Only the last 187 frames and one batch are held.
 */
import { MEL_BANDS } from './mel.js';

export const PATCH_FRAMES = 187;
export const PATCH_HOP = 93;
const PATCH_FLOATS = PATCH_FRAMES * MEL_BANDS;

/** How many patches Essentia makes from `frames` mel frames. */
export function patchCount(frames: number): number {
  return frames >= PATCH_FRAMES ? Math.floor((frames - PATCH_FRAMES) / PATCH_HOP) + 1 : 0;
}

export interface PatchBatch {
  /** count × 187 × 96 floats. */
  patches: Float32Array;
  count: number;
  /** Index of the first patch of this batch in the stream. */
  first: number;
}

export class PatchAssembler {
  /** Frames [histStart, histStart + histLen) of the stream, 96 floats each. */
  private hist = new Float32Array(2 * PATCH_FLOATS);
  private histStart = 0;
  private histLen = 0;
  private frameTotal = 0;
  private nextPatch = 0;
  private batch: Float32Array;
  private inBatch = 0;
  private batchFirst = 0;

  constructor(readonly batchSize = 8) {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`Expected a positive integer for batchSize but received ${batchSize}`);
    }
    this.batch = new Float32Array(batchSize * PATCH_FLOATS);
  }

  /** Mel frames pushed so far. */
  get frames(): number {
    return this.frameTotal;
  }

  /** Patches completed so far (in returned batches or pending in the current one). */
  get patches(): number {
    return this.nextPatch;
  }

  /** Feeds `count` mel rows (count × 96); returns the batches that filled up. */
  push(rows: Float32Array, count = rows.length / MEL_BANDS): PatchBatch[] {
    const done: PatchBatch[] = [];
    let pos = 0;
    while (pos < count) {
      // take frames up to the end of the next patch, then cut it
      const need = PATCH_FRAMES + this.nextPatch * PATCH_HOP - this.frameTotal;
      const take = Math.min(count - pos, Math.max(need, 0));
      this.append(rows.subarray(pos * MEL_BANDS, (pos + take) * MEL_BANDS));
      pos += take;
      this.frameTotal += take;
      if (this.frameTotal >= PATCH_FRAMES + this.nextPatch * PATCH_HOP) {
        const full = this.cut();
        if (full) done.push(full);
      }
    }
    return done;
  }

  /** Ends the stream: the last, partly filled batch, or null. Leftover frames are discarded. */
  end(): PatchBatch | null {
    if (this.inBatch === 0) return null;
    const out: PatchBatch = {
      patches: this.batch.slice(0, this.inBatch * PATCH_FLOATS),
      count: this.inBatch,
      first: this.batchFirst,
    };
    this.inBatch = 0;
    return out;
  }

  private append(rows: Float32Array): void {
    if (rows.length === 0) return;
    const keepFrom = this.nextPatch * PATCH_HOP; // first frame of the next patch
    const drop = Math.min(this.histLen, keepFrom - this.histStart);
    if (drop > 0) {
      this.hist.copyWithin(0, drop * MEL_BANDS, this.histLen * MEL_BANDS);
      this.histLen -= drop;
      this.histStart += drop;
    }
    const needed = (this.histLen * MEL_BANDS) + rows.length;
    if (needed > this.hist.length) {
      const grown = new Float32Array(Math.max(needed, 2 * this.hist.length));
      grown.set(this.hist.subarray(0, this.histLen * MEL_BANDS));
      this.hist = grown;
    }
    this.hist.set(rows, this.histLen * MEL_BANDS);
    this.histLen += rows.length / MEL_BANDS;
  }

  /** Copies patch `nextPatch` into the batch; returns the batch when it is full. */
  private cut(): PatchBatch | null {
    const start = (this.nextPatch * PATCH_HOP - this.histStart) * MEL_BANDS;
    if (this.inBatch === 0) this.batchFirst = this.nextPatch;
    this.batch.set(this.hist.subarray(start, start + PATCH_FLOATS), this.inBatch * PATCH_FLOATS);
    this.inBatch++;
    this.nextPatch++;
    if (this.inBatch < this.batchSize) return null;
    const out: PatchBatch = { patches: this.batch, count: this.inBatch, first: this.batchFirst };
    this.batch = new Float32Array(this.batchSize * PATCH_FLOATS);
    this.inBatch = 0;
    return out;
  }
}
