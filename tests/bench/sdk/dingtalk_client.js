// The official DingTalk Stream SDK client with a robot-message handler that only
// acknowledges, for bench_flood.py: node dingtalk_client.js BASE_URL CLIENT_SECRET
'use strict';
const path = require('path');
const stream = require('dingtalk-stream');

const [base, clientSecret] = process.argv.slice(2);
// The SDK reads the gateway's address from its constants module at call time;
// point it at the local gateway (the SDK has no option for it).
const constants = require(path.join(path.dirname(require.resolve('dingtalk-stream')), 'constants.cjs'));
constants.GATEWAY_URL = `${base}/v1.0/gateway/connections/open`;

const client = new stream.DWClient({ clientId: 'dingflood', clientSecret, keepAlive: false });
client.registerCallbackListener(stream.TOPIC_ROBOT, (msg) => {
  client.socketCallBackResponse(msg.headers.messageId, {});
});
client.connect();
