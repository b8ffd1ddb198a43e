/** The gateway's command line, as every deployment file must start it. */
export const GATEWAY_SCRIPT = 'bin/fieldgate.mjs';
/** `run -c /etc/fieldgate`, optionally with a sub-folder (the DaemonSet's per-node folder). */
export const GATEWAY_RUN = /(^| )run -c \/etc\/fieldgate(\/\S+)?( |$)/;
