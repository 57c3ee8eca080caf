// Integration tests run the real CLI: make sure dist/ holds the current build.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build-engine.mjs'], { stdio: 'inherit' });
}
