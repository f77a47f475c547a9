//! Device protocols for the kiosk: each device as a sans-IO codec, its transports and a simulator of the device side.
pub mod escpos;
pub mod idcard;
pub mod ipp;
pub mod text;

/// One read from a device link where "nothing yet" is normal: a timeout, a would-block or an
/// interrupt gives `Ok(None)`; end of stream gives `Ok(Some(0))`.
pub fn read_available(link: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<Option<usize>> {
    match link.read(buf) {
        Ok(n) => Ok(Some(n)),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
