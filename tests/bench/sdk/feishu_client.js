// The official Feishu/Lark SDK's long-connection client with a handler that
// does nothing, for bench_flood.py: node feishu_client.js BASE_URL APP_SECRET
'use strict';
const lark = require('@larksuiteoapi/node-sdk');

const [domain, appSecret] = process.argv.slice(2);
const client = new lark.WSClient({
  appId: 'cli_0123456789abcdef',
  appSecret,
  domain,
  loggerLevel: lark.LoggerLevel.error,
});
client.start({
  eventDispatcher: new lark.EventDispatcher({}).register({
    'im.message.receive_v1': async () => {},
  }),
});
