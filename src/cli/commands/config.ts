import { existsSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { checkDeployments } from '../../config/check-deployments.js';
import { loadConfigFile } from '../../config/load-config.js';
import { resolveBackends } from '../../config/resolve-backends.js';
import { shicConfigJsonSchema } from '../../config/shic-config.js';
import { type CliIo, printJson, println } from '../cli-context.js';

/** `shic config check [config]` and `shic config schema`. */
export function registerConfigCommands(program: Command, io: CliIo): void {
  const config = program.command('config').description('validate a config, or print its JSON Schema');
  config
    .command('check')
    .description(
      'validate a config without starting anything: YAML syntax, environment references, schema, and each deployment through its backend (boot spec fields, model file, binary)',
    )
    .argument('[config]', 'config file', 'shic.yaml')
    .option('--json', 'print the normalized config as JSON (credentials redacted)')
    .action(async (file: string, opts: { json?: boolean }) => {
      if (!existsSync(file)) throw new InvalidArgumentError(`config file "${file}" does not exist.`);
      const loaded = await loadConfigFile(file, { env: io.env });
      const { backends, ids } = await resolveBackends(loaded.config, { baseDir: loaded.baseDir });
      await checkDeployments(loaded, backends, ids);
      if (opts.json)
        return printJson(io, { file: loaded.file, stateDir: loaded.stateDir, config: loaded.config });
      const names = Object.entries(loaded.config.deployments).map(
        ([n, d]) => `${n} (${d.backend}, ${d.start})`,
      );
      println(
        io,
        `✔ ${file} is valid: ${names.length} deployment(s)${names.length ? `: ${names.join(', ')}` : ''}`,
      );
    });
  config
    .command('schema')
    .description('print the JSON Schema of shic.yaml (for editor completion)')
    .action(() => printJson(io, shicConfigJsonSchema()));
}
