/*
 * A UDP "server" module for etsy statsd (loaded through the config's `servers`
 * list), written for statsgraph's benchmarks and golden-file recorder.
 *
 * Same interface as statsd's own servers: `start(config, onMessage)` must bind
 * a listener that calls `onMessage(msg, rinfo)` for every datagram and return
 * true.  The only difference from the stock behaviour is that the socket asks
 * the kernel for a large receive buffer (config.recvBufferSize, default
 * 4 MiB), so bursts are not lost in the kernel's default-sized queue.
 */
'use strict';

const dgram = require('dgram');

const DEFAULT_RECV_BUFFER = 4 * 1024 * 1024;

exports.start = function start(config, onMessage) {
  const wanted = Number(config.recvBufferSize || DEFAULT_RECV_BUFFER);
  const socket = dgram.createSocket({
    type: config.address_ipv6 ? 'udp6' : 'udp4',
    recvBufferSize: wanted,
  });
  socket.on('message', onMessage);
  socket.on('error', function (err) {
    process.stderr.write('udp_bigbuf: socket error: ' + err + '\n');
  });
  socket.on('listening', function () {
    const addr = socket.address();
    // One machine-readable line so a harness can tell the socket is ready.
    process.stdout.write('udp_bigbuf: listening ' + addr.address + ':' + addr.port +
                         ' rcvbuf=' + socket.getRecvBufferSize() + '\n');
  });
  // Unlike statsd's own server, port 0 is honoured (the kernel picks a port and
  // the 'listening' line above reports it).
  const port = config.port === undefined ? 8125 : Number(config.port);
  socket.bind(port, config.address || undefined);
  exports.socket = socket;
  return true;
};
