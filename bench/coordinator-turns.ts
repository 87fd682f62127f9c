/** The coordinators of a scenario in turn, one per call: the load generator's lanes share them evenly. */
export function coordinatorTurns(c: { scenario: string; coordinatorUrls?: string[] }): () => string {
  const urls = c.coordinatorUrls ?? [];
  if (urls.length === 0) throw new Error(`${c.scenario}: no coordinator to send the load to`);
  let next = 0;
  return () => urls[next++ % urls.length]!;
}
