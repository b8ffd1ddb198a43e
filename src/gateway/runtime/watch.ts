/**
 * Reload on change: watches the configuration folder (recursively) for YAML files and calls
 * `onChange` once things settle. Anything else written there (the SQLite file of a data
 * directory inside the folder, editors' swap files) is ignored.
 */
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';

export interface ConfigWatch {
  close(): void;
}

export function watchConfig(dir: string, debounceMs: number, onChange: (files: string[]) => void): ConfigWatch {
  let timer: NodeJS.Timeout | undefined;
  const changed = new Set<string>();
  const watcher: FSWatcher = watch(dir, { recursive: true, persistent: false }, (_event, file) => {
    const name = file?.toString() ?? '';
    if (!/\.ya?ml$/.test(name)) return;
    changed.add(name);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const files = [...changed].sort();
      changed.clear();
      onChange(files);
    }, debounceMs);
    timer.unref();
  });
  watcher.on('error', () => undefined);
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
