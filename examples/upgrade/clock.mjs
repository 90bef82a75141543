// Preload (node --import): this process's clock runs GNC_CLOCK_OFFSET_MS ahead, as a node whose days have passed.
const off = Number(process.env.GNC_CLOCK_OFFSET_MS || 0);
if (off) {
  const Real = Date;
  class Moved extends Real {
    constructor(...a) { if (a.length === 0) super(Real.now() + off); else super(...a); }
    static now() { return Real.now() + off; }
  }
  globalThis.Date = Moved;
}
