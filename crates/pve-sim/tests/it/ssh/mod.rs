//! The nodes' SSH servers over real sockets on 127.0.0.1: driven with russh's client (the
//! simulator's own SSH stack, never pve-client's) and with the system's OpenSSH client.

mod commands;
mod hangup;
mod login;
mod openssh;
