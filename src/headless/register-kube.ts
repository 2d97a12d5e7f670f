// Declares the kube commands; each action imports its implementation lazily.
import type { Command } from 'commander';

export function registerKubeCommands(_program: Command): void {}
