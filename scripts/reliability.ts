// Runs the reliability suite (test/reliability) with a chosen soak length and seed:
//   npx tsx scripts/reliability.ts [--minutes N] [--seed S] [--rounds R] [--fuzz-scale K] [vitest args…]
// Flags become SHIC_SOAK_MINUTES, SHIC_SOAK_SEED, SHIC_CRASH_ROUNDS and SHIC_FUZZ_RUNS for vitest.
import { execa } from 'execa';

const FLAGS: Record<string, string> = {
  '--minutes': 'SHIC_SOAK_MINUTES',
  '--seed': 'SHIC_SOAK_SEED',
  '--rounds': 'SHIC_CRASH_ROUNDS',
  '--fuzz-scale': 'SHIC_FUZZ_RUNS',
};

const env: Record<string, string> = {};
const rest: string[] = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const name = FLAGS[argv[i]!];
  const value = argv[i + 1];
  if (name === undefined) rest.push(argv[i]!);
  else if (value === undefined || !/^\d+(\.\d+)?$/.test(value)) {
    process.stderr.write(`${argv[i]} needs a number (got ${value ?? 'nothing'})\n`);
    process.exit(2);
  } else {
    env[name] = value;
    i++;
  }
}
const minutes = Number(env.SHIC_SOAK_MINUTES ?? process.env.SHIC_SOAK_MINUTES ?? '2');
process.stderr.write(`reliability suite: soak ${minutes} min, ${JSON.stringify(env)}\n`);
const result = await execa('npx', ['vitest', 'run', 'test/reliability', ...rest], {
  env,
  stdio: 'inherit',
  reject: false,
});
process.exit(result.exitCode ?? 1);
