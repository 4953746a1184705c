// SPDX-License-Identifier: MIT
/**
 * Essentia's streaming FrameCutter as TensorflowPredictMusiCNN configures it: frameSize 512,
 * hopSize 256, startFromZero false, validFrameThresholdRatio 0
 * (src/algorithms/standard/framecutter.cpp, streaming namespace).
 *
 *  - The first frame is centred on sample 0: it starts at -(512+1)/2 = -256 (integer division),
 *    its first half zeros. Frame k covers samples [256k - 256, 256k + 256).
 *  - Past the end of the signal frames are zero-padded.
 *  - The last frame is the first one (k >= 1) whose centre 256k is at or past the end N; so a
 *    signal of N > 0 samples gives ceil(N / 256) + 1 frames and an empty one none.
 *  - Essentia replaces "silent" frames (mean power < 1e-10, i.e. -100 dB) by themselves plus
 *    uniform noise of amplitude 1e-5 from an unseeded generator, so its own output is not
 *    reproducible there. We keep such frames as they are (deterministic); for an all-zero
 *    frame that changes the log-compressed mel bands by a few 1e-6 at most.
 *
 * Streaming: `push()` returns every frame that is complete so far, `end()` the rest; frames
 * are packed row-major in one Float32Array (count × 512). Memory: one frame of history.
 */
import { concatFloat32 } from '../util/float32.js';

export const FRAME_SIZE = 512;
export const HOP_SIZE = 256;

/** How many frames Essentia cuts from a signal of `samples` samples. */
export function frameCount(samples: number): number {
  return samples > 0 ? Math.ceil(samples / HOP_SIZE) + 1 : 0;
}

export class FrameCutter {
  /** Samples from stream index `bufStart` on; the next frame starts at `next * 256 - 256`. */
  private buf = new Float32Array(4 * FRAME_SIZE);
  private bufStart = 0;
  private bufLen = 0;
  private next = 0;
  private total = 0;
  private ended = false;

  /** Samples pushed so far. */
  get samples(): number {
    return this.total;
  }

  /** Frames returned so far. */
  get frames(): number {
    return this.next;
  }

  /** Feeds samples; returns the frames now complete (count × 512 floats, maybe empty). */
  push(chunk: Float32Array): Float32Array {
    if (this.ended) throw new Error('FrameCutter.push() after end()');
    this.append(chunk);
    this.total += chunk.length;
    // frame k is complete once sample 256k + 255 is in
    const ready = Math.max(0, Math.floor(this.total / HOP_SIZE) - this.next);
    return this.emit(ready);
  }

  /** Ends the stream; returns the remaining, zero-padded frames. */
  end(): Float32Array {
    if (this.ended) return new Float32Array(0);
    this.ended = true;
    return this.emit(frameCount(this.total) - this.next);
  }

  private append(chunk: Float32Array): void {
    // drop samples no later frame needs
    const keepFrom = Math.max(0, this.next * HOP_SIZE - HOP_SIZE);
    const drop = Math.min(this.bufLen, keepFrom - this.bufStart);
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.bufLen);
      this.bufLen -= drop;
      this.bufStart += drop;
    }
    if (this.bufLen + chunk.length > this.buf.length) {
      const grown = new Float32Array(Math.max(2 * this.buf.length, this.bufLen + chunk.length));
      grown.set(this.buf.subarray(0, this.bufLen));
      this.buf = grown;
    }
    this.buf.set(chunk, this.bufLen);
    this.bufLen += chunk.length;
  }

  private emit(count: number): Float32Array {
    const out = new Float32Array(count * FRAME_SIZE);
    const bufEnd = this.bufStart + this.bufLen;
    for (let f = 0; f < count; f++, this.next++) {
      const start = this.next * HOP_SIZE - HOP_SIZE;
      const from = Math.max(start, this.bufStart);
      const to = Math.min(start + FRAME_SIZE, bufEnd);
      if (to > from) {
        out.set(this.buf.subarray(from - this.bufStart, to - this.bufStart), f * FRAME_SIZE + (from - start));
      }
    }
    return out;
  }
}

/** Every frame of a whole 16 kHz signal, packed count × 512 (FrameCutter push + end). */
export function cutFrames(x: Float32Array): Float32Array {
  const cutter = new FrameCutter();
  return concatFloat32([cutter.push(x), cutter.end()]);
}
