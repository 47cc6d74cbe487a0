// dynalite for the tests. Its request handler throws when a client aborts a request it
// was still sending (dynalite/index.js: `req.on('error', function (err) { throw err })`),
// and that uncaught exception ends the whole server. The crash test kills clients in the
// middle of requests on purpose, so such an abort is logged and the server goes on; any
// other uncaught error still ends it.
//
//     DYNALITE_CLI=node_modules/dynalite/cli.js node tests/dynalite_server.js --port 4567
'use strict'

process.on('uncaughtException', (err) => {
  if (err && err.code === 'ECONNRESET') {
    console.error(`dynalite: a client aborted its request (${err.message}); still serving`)
    return
  }
  console.error(err)
  process.exit(1)
})

require(process.env.DYNALITE_CLI)
