//! Network namespaces: a network stack of its own, with `lo` brought up.
//!
//! A new network namespace has its own interfaces, addresses, routes,
//! ports and firewall rules (network_namespaces(7)). It starts with a single
//! interface, the loopback `lo`, and that one is *down*: even 127.0.0.1 is
//! unreachable until someone brings it up. The child does it, since only
//! it is inside, the way `ip link set lo up` would: a socket to talk to the
//! kernel's network stack, `SIOCGIFFLAGS` to read `lo`'s flags, and
//! `SIOCSIFFLAGS` to write them back with `IFF_UP` added (netdevice(7)).
//! Bringing `lo` up also gives it its addresses, 127.0.0.1 and ::1.

use syscalls::Errno;

use crate::sys::{self, Fd, IfFlags};

/// The loopback interface's name.
pub const LOOPBACK: &[u8] = b"lo";

/// The call [`socket`] makes, for messages.
pub const SOCKET: &str = "socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, 0)";

/// The call [`flags`] makes, for messages.
pub const GET_FLAGS: &str = "ioctl(SIOCGIFFLAGS, \"lo\")";

/// The call [`bring_up`] makes, for messages.
pub const SET_FLAGS: &str = "ioctl(SIOCSIFFLAGS, \"lo\", flags|IFF_UP)";

/// A socket of any kind is enough to ask the kernel about interfaces; a
/// datagram socket costs the least.
pub fn socket() -> Result<Fd, Errno> {
    sys::socket(libc::AF_INET, libc::SOCK_DGRAM, 0)
}

/// The current flags of `lo`.
pub fn flags(socket: &Fd) -> Result<IfFlags, Errno> {
    let mut req = IfFlags::new(LOOPBACK);
    sys::ioctl_ifflags(socket.raw(), libc::SIOCGIFFLAGS, &mut req)?;
    Ok(req)
}

/// Set `IFF_UP` in `lo`'s flags, keeping the others as `current` has them.
pub fn bring_up(socket: &Fd, current: IfFlags) -> Result<(), Errno> {
    let mut req = current;
    req.flags |= libc::IFF_UP as i16;
    sys::ioctl_ifflags(socket.raw(), libc::SIOCSIFFLAGS, &mut req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_loopback_can_be_read() {
        // Reading flags needs no privilege; setting them is left to the
        // child of a new network namespace (tests/namespaces.rs).
        let socket = socket().unwrap();
        let lo = flags(&socket).unwrap();
        assert_eq!(&lo.name[..3], b"lo\0");
        assert_ne!(lo.flags & libc::IFF_LOOPBACK as i16, 0);
    }
}
