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
import { discoverCommand } from './discover.ts';
import type { DiscoverCliOptions } from './discover.ts';
import { discoverBacnetCommand } from './discover-bacnet.ts';
import { discoverOnvifCommand } from './discover-onvif.ts';

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
  .command('discover')
  .description('browse a device and print (or write into a folder) models.yml, access_template.yml and sub_devices.yml for what it finds')
  .argument('<protocol>', 'protocol (opcua, bacnet, onvif)')
  .option('--endpoint <url>', 'OPC UA endpoint, e.g. opc.tcp://127.0.0.1:4840')
  .option('--policy <policy>', 'security policy: None, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss')
  .option('--mode <mode>', 'security mode: None, Sign, SignAndEncrypt (default SignAndEncrypt when a policy is given)')
  .option('--username <name>', 'user name (anonymous when absent)')
  .option('--password <secret>', 'password of --username')
  .option('--trust <policy>', 'server certificate trust: tofu (default) or list')
  .option('--trust-cert <thumbprint|file>', 'trusted server certificate (repeatable; implies --trust list)', (v: string, prev: string[]) => [...prev, v], [] as string[])
  .option('--timeout <duration>', 'connect and request timeout, e.g. 10s')
  .option('--depth <n>', 'levels below Objects to browse', '4')
  .option('--limit <n>', 'stop after this many variables', '1000')
  .option('--product <name>', 'device model name written (default <protocol>-product)')
  .option('--template <name>', 'access template name written (default <protocol>-template)')
  .option('--device <name>', 'sub-device name written (default <protocol>-device-1)')
  .option('-o, --out <dir>', 'write the three files into this folder instead of stdout')
  .option('--force', 'overwrite files in --out')
  .option('--data-dir <dir>', "where the gateway's OPC UA certificate and pins live", 'data/drivers/opcua')
  .option('--address <ip[:port]>', 'BACnet: unicast Who-Is target (repeatable)', (v: string, p: string[] = []) => [...p, v])
  .option('--port <n>', 'BACnet: device UDP port when an address has none (47808)')
  .option('--broadcast <ip[:port]>', 'BACnet: Who-Is target without --address (255.255.255.255)')
  .option('--device-id <n>', 'BACnet: only this device instance')
  .option('--interface <ip>', 'BACnet: local address to bind (written into sub_devices.yml)')
  .option('--local-port <n>', 'BACnet: local UDP port (0 = any)')
  .option('--wait <duration>', 'BACnet: how long to collect I-Am answers (3s)')
  .option('--interval <duration>', 'BACnet: poll interval written into sub_devices.yml (5s)')
  .option('--multicast', 'ONVIF: probe 239.255.255.250:3702 instead of --address (127.0.0.1) and --port (3702)')
  .option('--user <name>', 'ONVIF: camera user (same as --username)')
  .action(async (protocol: string, o: DiscoverCliOptions) => {
    if (protocol === 'bacnet') {
      process.exitCode = await discoverBacnetCommand(o as never);
      return;
    }
    if (protocol === 'onvif') {
      process.exitCode = await discoverOnvifCommand(o as never);
      return;
    }
    process.exitCode = await discoverCommand(protocol, o);
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
