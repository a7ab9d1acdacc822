// The device flow (RFC 8628) as openid-client 6 runs it, against a Portcullis issuer, starting out
// of step: before the library polls, two polls of our own (the first pending, the second too soon
// and so `slow_down`) that the library does not know about. Prints one JSON line per event, with
// the time in ms, for tests/api/device_polling.rs.
//
//   node device_flow.mjs <issuer> <client_id>

import * as client from 'openid-client';

const [issuer, clientId] = process.argv.slice(2);
const log = (event, extra = {}) => console.log(JSON.stringify({ event, at: Date.now(), ...extra }));

const config = await client.discovery(
  new URL(issuer),
  clientId,
  { token_endpoint_auth_method: 'none' },
  client.None(),
  { execute: [client.allowInsecureRequests] }, // the test server is http on loopback
);
config[client.customFetch] = (url, options) => {
  if (String(url).endsWith('/token')) log('poll');
  return fetch(url, options);
};

const device = await client.initiateDeviceAuthorization(config, { scope: 'openid profile' });
log('codes', { user_code: device.user_code, interval: device.interval });

const earlyPoll = async () => {
  const response = await fetch(config.serverMetadata().token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: device.device_code,
      client_id: clientId,
    }),
  });
  return (await response.json()).error;
};
log('early', { errors: [await earlyPoll(), await earlyPoll()] });

const tokens = await client.pollDeviceAuthorizationGrant(config, device);
log('tokens', { access_token: Boolean(tokens.access_token), sub: tokens.claims()?.sub });
