// Shapes of the data the overview's charts draw.

export interface DurationBar {
  /** When the run ended; the chart labels it in the browser's zone. */
  at: number;
  seconds: number;
  detail: string;
}
