import { describe, expect, it } from 'vitest';
import { buildMlxServerCommand } from '../../../backends/mlx/index.js';

const base = { model: 'mlx-community/Qwen2.5-0.5B-Instruct-4bit', host: '127.0.0.1', port: 8123 };

describe('buildMlxServerCommand', () => {
  it('runs mlx_lm.server from PATH with --model --host --port', () => {
    expect(buildMlxServerCommand(base)).toEqual({
      command: 'mlx_lm.server',
      args: ['--model', 'mlx-community/Qwen2.5-0.5B-Instruct-4bit', '--host', '127.0.0.1', '--port', '8123'],
    });
  });

  it('appends extraArgs after the fixed flags, verbatim', () => {
    const { args } = buildMlxServerCommand({
      ...base,
      extraArgs: ['--max-tokens', '256', '--trust-remote-code'],
    });
    expect(args).toEqual([
      '--model',
      'mlx-community/Qwen2.5-0.5B-Instruct-4bit',
      '--host',
      '127.0.0.1',
      '--port',
      '8123',
      '--max-tokens',
      '256',
      '--trust-remote-code',
    ]);
  });

  it('uses binaryPath as the program', () => {
    expect(buildMlxServerCommand({ ...base, binaryPath: '/opt/venv/bin/mlx_lm.server' }).command).toBe(
      '/opt/venv/bin/mlx_lm.server',
    );
  });

  it('runs `<python> -m mlx_lm.server` with pythonPath', () => {
    expect(buildMlxServerCommand({ ...base, model: '/models/qwen', pythonPath: '/usr/bin/python3' })).toEqual(
      {
        command: '/usr/bin/python3',
        args: ['-m', 'mlx_lm.server', '--model', '/models/qwen', '--host', '127.0.0.1', '--port', '8123'],
      },
    );
  });

  it('appends the flags to a launcher command prefix', () => {
    expect(
      buildMlxServerCommand({ ...base, host: '::1', command: ['/usr/bin/node', 'stand-in.mjs', '--x'] }),
    ).toEqual({
      command: '/usr/bin/node',
      args: [
        'stand-in.mjs',
        '--x',
        '--model',
        'mlx-community/Qwen2.5-0.5B-Instruct-4bit',
        '--host',
        '::1',
        '--port',
        '8123',
      ],
    });
  });

  it('keeps a model path with spaces as one argument (no shell)', () => {
    const { args } = buildMlxServerCommand({ ...base, model: '/Users/me/My Models/qwen; rm -rf /' });
    expect(args[1]).toBe('/Users/me/My Models/qwen; rm -rf /');
  });
});
