// Declares the sandbox commands; each action imports its implementation lazily.
import type { Command } from 'commander';

export function registerSandboxCommands(_program: Command): void {}
