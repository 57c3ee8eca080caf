// Whether a backup looks unlike the source's usual ones: a robust z-score (median and median absolute deviation,
// which a few odd backups in the history do not drag along) of two figures the repository gives
// (lib/engine/stats/backup-figures.ts). Ransomware at work rewrites many files with what looks like random bytes:
// far more of the content is new than usual, and that new content no longer compresses.

/** A backup is judged against at least this many earlier ones of its source, and at most HISTORY. */
export const MIN_HISTORY = 5;
export const HISTORY = 30;
/** The score from which a backup is flagged. */
export const FLAG_AT = 4;
/** Below this much new content, how it compressed says little (a few small edits), and is not judged. */
export const MIN_COMPRESSION_SAMPLE = 64 * 1024;
/** The smallest spread a score divides by, so that a history of identical backups does not make the slightest
 *  change infinitely odd: a share of the content for the new-bytes ratio, a share of the median for compression. */
const NEW_RATIO_FLOOR = 0.01;
const COMPRESSION_FLOOR = 0.05;
/** Scales the median absolute deviation to a standard deviation's for normal data. */
const MAD_SCALE = 1.4826;

export interface Figures {
  /** Share of the snapshot's content in blobs the previous snapshot lacked (0…1). */
  newRatio: number;
  /** Plaintext over stored bytes of that new content; null when there was too little to judge. */
  compressionRatio: number | null;
}

/** The figures judged, from what the repository says a backup added (`lifeline stats SNAPSHOT`). */
export function figuresOf(f: { bytes: number; newRawBytes: number; newStoredBytes: number }): Figures {
  return {
    newRatio: f.bytes > 0 ? Math.min(1, f.newRawBytes / f.bytes) : 0,
    compressionRatio:
      f.newRawBytes >= MIN_COMPRESSION_SAMPLE && f.newStoredBytes > 0 ? f.newRawBytes / f.newStoredBytes : null,
  };
}

export interface Judgement {
  /** Null while the history is shorter than MIN_HISTORY. */
  newRatioScore: number | null;
  compressionScore: number | null;
  flagged: boolean;
  /** Why, in words, when flagged. */
  why: string | null;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** (value − median) / (1.4826 · MAD), with the spread no smaller than `floor`; null on too short a history. */
export function robustZ(value: number, history: number[], floor: number): number | null {
  if (history.length < MIN_HISTORY) return null;
  const m = median(history);
  const mad = median(history.map((h) => Math.abs(h - m)));
  return (value - m) / Math.max(MAD_SCALE * mad, floor);
}

/** Judges a backup's figures against the source's earlier, unflagged ones (oldest first; the last HISTORY count).
 *  Flagged when far more is new than usual, or the new content compresses far worse than usual. */
export function judge(figures: Figures, earlier: Figures[]): Judgement {
  const history = earlier.slice(-HISTORY);
  const newRatioScore = robustZ(
    figures.newRatio,
    history.map((f) => f.newRatio),
    NEW_RATIO_FLOOR,
  );
  const ratios = history.map((f) => f.compressionRatio).filter((r): r is number => r !== null);
  const compressionScore =
    figures.compressionRatio === null
      ? null
      : robustZ(figures.compressionRatio, ratios, COMPRESSION_FLOOR * (ratios.length > 0 ? median(ratios) : 1));
  const reasons: string[] = [];
  if (newRatioScore !== null && newRatioScore >= FLAG_AT)
    reasons.push(
      `${percent(figures.newRatio)} of its content is new, against ${percent(median(history.map((f) => f.newRatio)))} usually (score ${newRatioScore.toFixed(1)})`,
    );
  if (compressionScore !== null && compressionScore <= -FLAG_AT)
    reasons.push(
      `its new content compresses ${figures.compressionRatio!.toFixed(2)}×, against ${median(ratios).toFixed(2)}× usually (score ${compressionScore.toFixed(1)}): it looks like random or encrypted data`,
    );
  return {
    newRatioScore,
    compressionScore,
    flagged: reasons.length > 0,
    why: reasons.length > 0 ? reasons.join('; ') : null,
  };
}

const percent = (share: number) => `${(share * 100).toFixed(share < 0.1 ? 1 : 0)} %`;
