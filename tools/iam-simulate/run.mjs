// Evaluate a batch of IAM requests with @cloud-copilot/iam-simulate (one process per batch).
// stdin:  {"simulations": [{"id": "...", "simulation": <iam-simulate Simulation>}, ...]}
// stdout: {"engine": "<version>", "results": [{"id", "result", "denials", "grants", "ignoredContextKeys", "error"}]}
// "result" is Allowed, ImplicitlyDenied, ExplicitlyDenied or Error. Test-and-CI-only tool (AGPL-3.0-or-later).
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getDenialReasons, getGrantReasons, runSimulation } from '@cloud-copilot/iam-simulate'

const here = dirname(fileURLToPath(import.meta.url))
const enginePackage = join(here, 'node_modules', '@cloud-copilot', 'iam-simulate', 'package.json')
const engineVersion = JSON.parse(readFileSync(enginePackage, 'utf-8')).version

function analysesOf(response) {
  if (response.resultType === 'single') return [response.result]
  return response.results
}

async function evaluate(item) {
  const response = await runSimulation(item.simulation, { simulationMode: 'Strict' })
  if (response.resultType === 'error') {
    return { id: item.id, result: 'Error', error: response.errors }
  }
  const analyses = analysesOf(response).filter((r) => r.analysis)
  return {
    id: item.id,
    result: response.overallResult,
    denials: analyses.flatMap((r) => getDenialReasons(r.analysis)),
    grants: analyses.flatMap((r) => (r.analysis.result === 'Allowed' ? getGrantReasons(r.analysis) : [])),
    ignoredContextKeys: [...new Set(analyses.flatMap((r) => r.ignoredContextKeys || []))]
  }
}

let batch
try {
  batch = JSON.parse(readFileSync(0, 'utf-8'))
} catch (error) {
  process.stderr.write(`error: the batch on stdin is not JSON: ${error.message}\n`)
  process.exit(2)
}
if (!batch || !Array.isArray(batch.simulations)) {
  process.stderr.write('error: the batch needs a "simulations" list\n')
  process.exit(2)
}
const results = []
for (const item of batch.simulations) {
  try {
    results.push(await evaluate(item))
  } catch (error) {
    results.push({ id: item.id, result: 'Error', error: { message: String(error && error.message ? error.message : error) } })
  }
}
process.stdout.write(JSON.stringify({ engine: engineVersion, results }))
