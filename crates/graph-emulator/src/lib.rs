//! graph-emulator: a local stand-in for Microsoft's identity platform, Graph drives and
//! Graph's socket.io change notifications. It never depends on drivewatch-core.
