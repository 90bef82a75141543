/**
 * `gnc init`: create an administration's data dir: root key, node key, libp2p key, config, database and, last, the
 * root-signed node certificate; or complete the one an init that was interrupted left (certs/identity.ts), holding the
 * data dir's init lock (node/keys/lock.ts) so that two inits never run at once. A listen port of 0 is resolved to a free port now, because the certificate
 * names the node's addresses and partners dial exactly those.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { IDENTITY_PATHS, initIdentity } from '../../../certs/identity.js';
import { CountryCode } from '../../../protocol/codes/countries.js';
import { MAX_CERT_VALIDITY_DAYS } from '../../../protocol/constants.js';
import { dirOption, GncError, shellWord } from '../../../protocol/errors.js';
import { parseWith } from '../../../protocol/validate.js';
import { CONFIG_FILE, isWildcardAddress, ListenAddress, NodeConfig, PortOption, readConfig, writeConfig } from '../../config.js';
import { withInitLock } from '../../keys/lock.js';
import { apiBaseUrl } from '../../api/url.js';
import { DB_FILE, Store } from '../../store/store.js';
import { parse, type CommandSpec } from '../args.js';
import type { Command } from '../command.js';
import { makeDirs } from '../files.js';

const spec = {
  name: 'init',
  usage: 'gnc init --dir DIR --country XX --name "Administration" [--listen MULTIADDR]... [--announce MULTIADDR]... [--api-port N] [--api-host H] [--validity-days N]',
  description: 'Create the data dir of a national node: keys (mode 0600), node certificate signed by the administration root, config.',
  options: {
    dir: { type: 'string' },
    country: { type: 'string' },
    name: { type: 'string' },
    listen: { type: 'string', multiple: true },
    announce: { type: 'string', multiple: true },
    'api-port': { type: 'string' },
    'api-host': { type: 'string' },
    'validity-days': { type: 'string' },
  },
  required: ['dir', 'country', 'name'],
} as const;

/** Lowest port `freePort` picks: above the registered services most hosts run (databases, proxies, brokers). */
export const STABLE_PORT_MIN = 10_000;

/** The first port of the kernel's ephemeral range (Linux), if it can be read. */
function ephemeralLow(): number | undefined {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : undefined;
  } catch {
    return undefined;
  }
}

/** Binds `port` (0: the kernel picks) on `host` and releases it; the bound port, or undefined when it is in use. */
function probe(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => (port !== 0 && (err.code === 'EADDRINUSE' || err.code === 'EACCES') ? resolve(undefined) : reject(err)));
    srv.listen(port, host, () => {
      const bound = (srv.address() as { port: number }).port;
      srv.close(() => resolve(bound));
    });
  });
}

/**
 * A free TCP port for `tcp/0` and an unset --api-port. It is written into the config and the signed certificate,
 * so it must stay free across restarts: a port of the kernel's ephemeral range can be taken at any moment as the
 * source port of an outgoing connection, and the node would then fail to start. So a port below that range (from
 * STABLE_PORT_MIN) is picked at random and probed; where the range cannot be read, the kernel picks one.
 */
export async function freePort(host: string): Promise<number> {
  const low = ephemeralLow();
  if (low !== undefined && low > STABLE_PORT_MIN + 1000) {
    for (let i = 0; i < 50; i++) {
      const port = await probe(STABLE_PORT_MIN + Math.floor(Math.random() * (low - STABLE_PORT_MIN)), host);
      if (port !== undefined) return port;
    }
  }
  return (await probe(0, host))!;
}

async function resolvePort0(addr: string): Promise<string> {
  const m = /^\/(ip4|ip6|dns4|dns6)\/([^/]+)\/tcp\/0(\/.*)?$/.exec(addr);
  if (!m) return addr;
  const host = m[1] === 'ip6' ? m[2]! : m[1]!.startsWith('dns') ? '127.0.0.1' : m[2]!;
  return `/${m[1]}/${m[2]}/tcp/${await freePort(host === '0.0.0.0' ? '127.0.0.1' : host)}${m[3] ?? ''}`;
}

/**
 * The config an interrupted init wrote (before the certificate, which only a complete init has; initIdentity refuses
 * a dir with one) must be for the administration named now: one for another is not completed into a mixed identity.
 */
function refuseOtherConfig(dir: string, config: NodeConfig): void {
  if (!existsSync(join(dir, CONFIG_FILE)) || existsSync(join(dir, IDENTITY_PATHS.certificate))) return;
  const held = readConfig(dir);
  if (held.country === config.country && held.name === config.name) return;
  throw new GncError('GNC_CONFIG_INVALID', `${join(dir, CONFIG_FILE)}, written by a \`gnc init\` that was interrupted, is for ${held.country} "${held.name}", not ${config.country} "${config.name}": run \`gnc init ${dirOption(dir)} --country ${held.country} --name ${shellWord(held.name)}\` to complete that one, or use another --dir.`);
}

export const initCommand: Command = {
  spec,
  async run(argv, out) {
    const { values } = parse(spec, argv);
    const dir = values.dir!;
    const country = parseWith(CountryCode, values.country, '--country', '', 'GNC_CONFIG_INVALID');
    // every check before any key is written: a refused init leaves the dir as it was
    for (const [option, addrs] of [['--listen', values.listen], ['--announce', values.announce]] as const) {
      for (const a of addrs ?? []) parseWith(ListenAddress, a, option, '', 'GNC_CONFIG_INVALID');
    }
    const listen = await Promise.all((values.listen ?? ['/ip4/127.0.0.1/tcp/0']).map(resolvePort0));
    const announce = values.announce ?? listen.filter((a) => !isWildcardAddress(a));
    if (announce.length === 0) throw new GncError('GNC_CONFIG_INVALID', 'Listening on a wildcard address: pass --announce with the address partners should dial.');
    const apiHost = values['api-host'] ?? '127.0.0.1';
    const apiPort = values['api-port'] === undefined ? await freePort(apiHost) : parseWith(PortOption, values['api-port'], '--api-port', '', 'GNC_CONFIG_INVALID');
    const validityDays = values['validity-days'] === undefined ? 365 : Number(values['validity-days']);
    if (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > MAX_CERT_VALIDITY_DAYS) {
      throw new GncError('GNC_CONFIG_INVALID', `--validity-days must be a whole number of days from 1 to ${MAX_CERT_VALIDITY_DAYS}; rotate the node key before it runs out (\`gnc keys rotate\`).`);
    }
    const config = parseWith(NodeConfig, { v: 1, country, name: values.name, listen, announce, api: { host: apiHost, port: apiPort } }, 'Configuration', '', 'GNC_CONFIG_INVALID');
    makeDirs(dir, 0o750);
    // one init at a time per data dir: two at once would each write keys, and could take each other's for a crash's
    const id = await withInitLock(dir, () => {
      refuseOtherConfig(dir, config);
      return initIdentity({
        dir, country, name: config.name, addrs: announce, validityMs: validityDays * 86_400_000,
        beforeCertificate: () => {
          writeConfig(dir, config);
          // every message, receipt and token hash of the node: 0600 from the start (SQLite gives its -wal and -shm the
          // database's mode), as a backup copy is, also when --dir existed before with a mode others may enter
          writeFileSync(join(dir, DB_FILE), '', { flag: 'a', mode: 0o600 });
          Store.open(dir).close();
        },
      });
    });
    if (id.kept.length > 0) {
      const removed = id.removed.length > 0 ? `; removed the temporary files it left: ${id.removed.join(', ')}` : '';
      out(`Resumed an init of ${dir} that was interrupted: kept ${id.kept.join(', ')}, made the rest and the node certificate${removed}.`);
    }
    out(`Initialised ${country} node in ${dir}`);
    out(`  root fingerprint: ${id.root.thumbprint}   (tell partners this by a separate channel)`);
    out(`  node key id:      ${id.node.thumbprint}`);
    out(`  peer id:          ${id.peerId}`);
    out(`  addresses:        ${announce.join(' ')}`);
    // --api-port 0: the system picks a port at each start, which only `gnc start` can tell
    const api = apiPort === 0 ? `on ${apiHost}, a port chosen at each start (gnc start prints the URL)` : `${apiBaseUrl(apiHost, apiPort)}/v1`;
    out(`  API:              ${api}  (create a token: gnc token create ${dirOption(dir)} --name NAME --scopes submit,read)`);
    out(`  private keys:     ${join(dir, 'keys')} (mode 0600)`);
  },
};
