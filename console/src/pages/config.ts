/** Checks the configuration on disk (POST /api/v1/config/validate) and lists its issues. */
import { api, ApiError } from '../api.ts';
import { fill, h } from '../dom.ts';
import { clock } from '../format.ts';
import type { ValidateResult } from '../types.ts';
import { card, errorBox, pageHead } from '../ui.ts';

export function configPage(root: HTMLElement, _params: Record<string, string>, signal: AbortSignal): void {
  const result = h('div', { id: 'validate-result' }, h('p', { class: 'muted' }, 'Edit the files under the configuration folder, then check them here before reloading the gateway.'));
  const run = h('button', { class: 'btn btn-primary', type: 'button' }, 'Validate configuration');
  fill(
    root,
    pageHead('Configuration', 'gateway.yaml and, per driver instance, models.yml, access_template.yml and sub_devices.yml.', run),
    card('Check before reload', result),
  );
  run.addEventListener('click', async () => {
    run.disabled = true;
    fill(result, h('div', { class: 'loading' }, 'Loading and compiling the configuration on disk…'));
    try {
      let r: ValidateResult;
      try {
        r = await api<ValidateResult>('POST', '/api/v1/config/validate', undefined, signal);
      } catch (e) {
        // 422 carries the issues in the same shape.
        if (e instanceof ApiError && e.status === 422 && typeof e.raw === 'object' && e.raw !== null && 'issues' in e.raw) r = e.raw as ValidateResult;
        else throw e;
      }
      const when = h('span', { class: 'muted small' }, `checked at ${clock(Date.now())}`);
      if (r.ok) {
        fill(result, h('div', { class: 'alert alert-ok' }, h('b', null, 'The configuration is valid.'), ` It defines ${r.devices ?? 0} device${r.devices === 1 ? '' : 's'}. `, when));
      } else {
        fill(
          result,
          h('div', { class: 'alert alert-bad' }, h('b', null, `${r.issues.length} issue${r.issues.length === 1 ? '' : 's'}`), ' — the gateway would refuse this configuration and keep running the current one. ', when),
          h(
            'ul',
            { class: 'issues' },
            r.issues.map((i) =>
              h(
                'li',
                { class: 'issue' },
                h('div', { class: 'issue-where mono' }, i.file, i.line !== undefined ? `:${i.line}${i.column !== undefined ? `:${i.column}` : ''}` : '', i.path ? h('span', { class: 'issue-path' }, ` ${i.path}`) : null),
                h('div', { class: 'issue-msg' }, i.message),
              ),
            ),
          ),
        );
      }
    } catch (e) {
      if (!signal.aborted) fill(result, errorBox(e));
    } finally {
      run.disabled = false;
    }
  });
}
