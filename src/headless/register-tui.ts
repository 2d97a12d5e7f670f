// Declares the tui commands; each action imports its implementation lazily.
import type { Command } from 'commander';

export function registerTui(_program: Command): void {}
