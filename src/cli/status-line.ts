// SPDX-License-Identifier: MIT
/**
 * A live progress line at the bottom of a terminal: log lines are written above it and it is
 * redrawn after each one. On a non-terminal stream it does nothing but pass lines through.
 */
export interface TextSink {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export class StatusLine {
  private text = '';
  private shown = false;
  constructor(private readonly out: TextSink) {}

  get enabled(): boolean {
    return Boolean(this.out.isTTY);
  }

  /** Write log text above the status line. */
  write(s: string): void {
    if (!this.enabled) {
      this.out.write(s);
      return;
    }
    this.out.write((this.shown ? '\r\x1b[2K' : '') + s);
    this.shown = false;
    this.draw();
  }

  set(text: string): void {
    if (!this.enabled) return;
    this.text = text;
    this.draw();
  }

  clear(): void {
    this.text = '';
    if (this.enabled && this.shown) this.out.write('\r\x1b[2K');
    this.shown = false;
  }

  private draw(): void {
    if (!this.text) return;
    const width = Math.max(20, (this.out.columns ?? 100) - 1);
    const t = this.text.length > width ? this.text.slice(0, width - 1) + '…' : this.text;
    this.out.write('\r\x1b[2K' + t);
    this.shown = true;
  }
}
