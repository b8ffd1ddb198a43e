/**
 * The `fieldgate` command line: run, validate, simulate, demo.
 * Exit codes: 0 ok, 1 runtime failure, 2 invalid configuration.
 */
import { Command } from 'commander';
import { runCommand } from './run.ts';
import { validateCommand } from './validate.ts';
import { simulateCli } from './simulate.ts';
import { demoCommand } from './demo.ts';
import { cloudCommand } from './cloud.ts';
import { newDriverCommand } from './new-driver.ts';

const program = new Command()
  .name('fieldgate')
  .description('Industrial device-access gateway: field devices to baetyl-broker')
  .showHelpAfterError();

program
  .command('run')
  .description('run the gateway with the configuration in a folder')
  .option('-c, --config <dir>', 'configuration folder (gateway.yaml + one folder per driver instance)', 'conf')
  .option('--log-level <level>', 'override log.level of gateway.yaml')
  .action(async (o: { config: string; logLevel?: string }) => {
    process.exitCode = await runCommand(o.config, o.logLevel);
  });

program
  .command('validate')
  .description('check a configuration folder and print every problem with file, line and YAML path')
  .option('-c, --config <dir>', 'configuration folder', 'conf')
  .action(async (o: { config: string }) => {
    process.exitCode = await validateCommand(o.config);
  });

program
  .command('simulate')
  .description('serve simulated devices for the configuration (every device whose protocol has a simulator, or one)')
  .option('-c, --config <dir>', 'configuration folder', 'conf')
  .option('-d, --device <name>', 'simulate only this device')
  .option('--seed <n>', 'seed of the value generators (default: simulator.yaml, else 1)', (v) => Number.parseInt(v, 10))
  .action(async (o: { config: string; device?: string; seed?: number }) => {
    process.exitCode = await simulateCli(o.config, o.device, o.seed);
  });

program
  .command('demo', { isDefault: false })
  .description('start simulators for every device in the configuration, an embedded broker and the gateway')
  .option('-c, --config <dir>', 'configuration folder', 'conf')
  .option('--log-level <level>', 'log level', 'info')
  .action(async (o: { config: string; logLevel: string }) => {
    process.exitCode = await demoCommand(o.config, o.logLevel);
  });

program
  .command('cloud')
  .description('the cloud simulator: `cloud serve`, `cloud set DEVICE prop=value ...`, `cloud get DEVICE` (see docs/cloud-protocol.md)')
  .allowUnknownOption()
  .helpOption(false)
  .argument('[args...]')
  .action(async (args: string[]) => {
    process.exitCode = await cloudCommand(args);
  });

program
  .command('new-driver')
  .description('create a driver plugin package (descriptor, schemas, session, simulator stub, conformance test)')
  .argument('<name>', 'driver id, e.g. kv')
  .option('-d, --dir <dir>', 'where to create it (default: fieldgate-driver-<name>)')
  .action(async (name: string, o: { dir?: string }) => {
    process.exitCode = await newDriverCommand(name, o.dir ?? `fieldgate-driver-${name}`);
  });

await program.parseAsync(process.argv);
