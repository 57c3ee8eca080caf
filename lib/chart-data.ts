// Shapes of the data the overview's charts draw.

export interface DurationBar {
  label: string;
  seconds: number;
  detail: string;
}
