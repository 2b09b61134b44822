// Entry point of the `shic` binary (bin/shic.js imports this module).
import { runCli } from './run-cli.js';

const code = await runCli(process.argv.slice(2));
// Exit explicitly: a stray keep-alive socket or timer must not keep a finished command alive.
process.exit(code);
