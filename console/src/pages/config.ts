/**
 * The configuration page: checks the files on disk (POST /api/v1/config/validate), previews what
 * a reload would change (POST /api/v1/config/plan) and applies it (POST /api/v1/config/reload).
 */
import { api, ApiError, planConfig, reloadConfig } from '../api.ts';
import type { ConfigIssue, ReloadResult } from '../api.ts';
import { fill, h } from '../dom.ts';
import { clock } from '../format.ts';
import type { ValidateResult } from '../types.ts';
import { card, errorBox, pageHead } from '../ui.ts';

type Plan = Extract<ReloadResult, { ok: true }>;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The issues of a refused configuration, each with its file:line:column, path and message. */
function issueList(issues: readonly ConfigIssue[]): HTMLElement {
  return h(
    'ul',
    { class: 'issues' },
    issues.map((i) =>
      h(
        'li',
        { class: 'issue' },
        h('div', { class: 'issue-where mono' }, i.file, i.line !== undefined ? `:${i.line}${i.column !== undefined ? `:${i.column}` : ''}` : '', i.path ? h('span', { class: 'issue-path' }, ` ${i.path}`) : null),
        h('div', { class: 'issue-msg' }, i.message),
      ),
    ),
  );
}

/** One column of the plan: the devices that would be added, removed or restarted. */
function group(kind: 'added' | 'removed' | 'changed', title: string, names: readonly string[], link: boolean): HTMLElement {
  return h(
    'div',
    { class: `plan-group plan-${kind}${names.length === 0 ? ' plan-empty' : ''}`, dataset: { group: kind } },
    h('div', { class: 'plan-group-head' }, h('h3', null, title), h('span', { class: 'plan-count' }, String(names.length))),
    names.length === 0
      ? h('div', { class: 'plan-none' }, 'none')
      : h(
          'ul',
          { class: 'plan-list' },
          names.map((n) => h('li', { class: 'plan-item mono', dataset: { device: n } }, link ? h('a', { href: `#/devices/${encodeURIComponent(n)}` }, n) : n)),
        ),
  );
}

/** The four columns of a plan (or of an applied reload, `done`). */
function planGrid(p: Plan, done: boolean): HTMLElement {
  return h(
    'div',
    { class: 'plan-grid' },
    group('added', done ? 'Added' : 'To add', p.added, done),
    group('removed', done ? 'Removed' : 'To remove', p.removed, false),
    group('changed', done ? 'Restarted' : 'To restart', p.changed, true),
    h(
      'div',
      { class: 'plan-group plan-unchanged', dataset: { group: 'unchanged' }, title: p.unchanged.join(', ') },
      h('div', { class: 'plan-group-head' }, h('h3', null, 'Unchanged'), h('span', { class: 'plan-count' }, String(p.unchanged.length))),
      h('div', { class: 'plan-none' }, done ? 'kept running' : 'keep running, untouched'),
    ),
  );
}

const changes = (p: Plan) => p.added.length + p.removed.length + p.changed.length;

function summary(p: Plan, done: boolean): string {
  const [add, remove, restart] = done ? ['Added', 'removed', 'restarted'] : ['A reload would add', 'remove', 'restart'];
  return `${add} ${p.added.length}, ${remove} ${p.removed.length} and ${restart} ${plural(p.changed.length, 'device')}; ${p.unchanged.length} unchanged.`;
}

export function configPage(root: HTMLElement, _params: Record<string, string>, signal: AbortSignal): void {
  const result = h('div', { id: 'validate-result' }, h('p', { class: 'muted' }, 'Edit the files under the configuration folder, then check them here before reloading the gateway.'));
  const planBox = h('div', { id: 'plan-result' }, h('div', { class: 'loading' }, 'Comparing the files on disk with the running configuration…'));
  const run = h('button', { class: 'btn', type: 'button' }, 'Validate configuration');
  const preview = h('button', { class: 'btn', type: 'button', id: 'plan-run' }, 'Preview reload');
  const apply = h('button', { class: 'btn btn-primary', type: 'button', id: 'plan-apply', disabled: true }, 'Apply');
  fill(
    root,
    pageHead('Configuration', 'gateway.yaml and, per driver instance, models.yml, access_template.yml and sub_devices.yml.', h('div', { class: 'actions' }, run, preview)),
    card('Check before reload', result),
    card('What a reload would change', planBox, apply),
  );

  /** The plan the Apply button would apply; cleared while busy and once applied. */
  let plan: Plan | null = null;
  let busy = false;
  const sync = () => {
    preview.disabled = busy;
    apply.disabled = busy || plan === null || changes(plan) === 0;
    apply.title = apply.disabled ? 'Enabled when the preview shows changes and no issues' : 'Reload the configuration on disk now';
  };

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
        fill(result, h('div', { class: 'alert alert-ok' }, h('b', null, 'The configuration is valid.'), ` It defines ${plural(r.devices ?? 0, 'device')}. `, when));
      } else {
        fill(result, h('div', { class: 'alert alert-bad' }, h('b', null, plural(r.issues.length, 'issue')), ' — the gateway would refuse this configuration and keep running the current one. ', when), issueList(r.issues));
      }
    } catch (e) {
      if (!signal.aborted) fill(result, errorBox(e));
    } finally {
      run.disabled = false;
    }
  });

  /** Runs a plan or a reload and shows its answer; `applied` words it as done. */
  async function show(call: (s: AbortSignal) => Promise<ReloadResult>, applied: boolean, loading: string): Promise<void> {
    busy = true;
    plan = null;
    sync();
    fill(planBox, h('div', { class: 'loading' }, loading));
    try {
      const r = await call(signal);
      const when = h('span', { class: 'muted small' }, `${applied ? 'applied' : 'checked'} at ${clock(Date.now())}`);
      if (!r.ok) {
        const what = applied ? 'the reload was refused and the running configuration stays.' : 'a reload would be refused and the running configuration would stay.';
        fill(planBox, h('div', { class: 'alert alert-bad' }, h('b', null, plural(r.issues.length, 'issue')), ` — ${what} `, when), issueList(r.issues));
      } else if (applied) {
        fill(planBox, h('div', { class: 'alert alert-ok' }, h('b', null, 'Reload applied.'), ` ${summary(r, true)} `, when), planGrid(r, true));
      } else if (changes(r) === 0) {
        fill(planBox, h('div', { class: 'alert alert-ok' }, h('b', null, 'Nothing to reload.'), ` The files on disk match the running configuration (${plural(r.unchanged.length, 'device')}). `, when), planGrid(r, false));
      } else {
        plan = r;
        fill(planBox, h('div', { class: 'alert alert-warn' }, h('b', null, `${plural(changes(r), 'change')} pending.`), ` ${summary(r, false)} Nothing is applied until you press Apply. `, when), planGrid(r, false));
      }
    } catch (e) {
      if (!signal.aborted) fill(planBox, errorBox(e));
    } finally {
      busy = false;
      sync();
    }
  }

  preview.addEventListener('click', () => void show(planConfig, false, 'Comparing the files on disk with the running configuration…'));
  apply.addEventListener('click', () => {
    if (plan !== null && changes(plan) > 0) void show(reloadConfig, true, 'Applying the configuration: restarting the changed devices…');
  });
  void show(planConfig, false, 'Comparing the files on disk with the running configuration…');
}
