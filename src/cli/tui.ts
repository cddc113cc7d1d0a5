/** `cco tui`. (Placeholder until its issue lands.) */
export async function main(_args: string[]): Promise<number> {
  process.stderr.write('cco tui is not available in this build yet\n');
  return 2;
}
