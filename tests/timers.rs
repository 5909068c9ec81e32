//! Cancellable timers (`Out::cancel_timer`), the same on both runtimes: a cancelled timer never
//! fires, a timer set again after a cancel does, and a crash cancels every timer.

use std::time::{Duration, Instant};

use distlab::node::NodeId;
use distlab::protocol::{Context, Out, Protocol};
use distlab::sim::Sim;
use distlab::udp::RealNodes;
use distlab::Config;

/// On a request: timers 1 (10 ms), 2 (20 ms) and 3 (30 ms), then cancels 1, sets 1 again
/// (40 ms) and cancels 3. The state lists the timers that fired, in order.
#[derive(Debug, Clone)]
struct Alarms;

impl Protocol for Alarms {
    type State = Vec<u64>;
    type Msg = ();
    type Request = ();
    type Output = ();

    fn on_request(&self, _: &Context, _: &mut Vec<u64>, _: &(), out: &mut Out<(), ()>) {
        out.set_timer(10.0, 1);
        out.set_timer(20.0, 2);
        out.set_timer(30.0, 3);
        out.cancel_timer(1);
        out.set_timer(40.0, 1);
        out.cancel_timer(3);
        out.cancel_timer(99); // never set: nothing happens
    }
    fn on_message(&self, _: &Context, _: &mut Vec<u64>, _: NodeId, _: &(), _: &mut Out<(), ()>) {}
    fn on_timer(&self, _: &Context, fired: &mut Vec<u64>, timer: u64, out: &mut Out<(), ()>) {
        fired.push(timer);
        if timer == 1 {
            out.finish();
        }
    }
    fn describe(&self, _: &()) -> String {
        String::new()
    }
}

#[test]
fn simulated_cancelled_timers_never_fire() {
    let config = Config::builder().nodes(1).seed(1).build().unwrap();
    let mut sim = Sim::new(Alarms, config);
    sim.request(0, ()).unwrap();
    sim.run();
    assert_eq!(
        sim.state(NodeId(0)).unwrap(),
        &[2, 1],
        "timer 1 fires once (set again after its cancel), 3 never"
    );
}

#[test]
fn real_cancelled_timers_never_fire() {
    let config = Config::builder().nodes(1).seed(1).build().unwrap();
    let mut real = RealNodes::start(Alarms, config).unwrap();
    real.request(0, ()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while real.state(0).unwrap().len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(60)); // time for a wrongly kept timer 3 to fire
    assert_eq!(real.state(0).unwrap(), [2, 1]);
    real.shutdown();
}

#[test]
fn a_crash_cancels_every_pending_timer_and_a_cancel_does_not_outlive_it() {
    // Durable nodes keep their list of fired timers across the crash. Timers 2 (20 ms) and 1
    // (set again for 40 ms) are pending when the node crashes at 15 ms: neither ever fires.
    // After the recovery, the second request's timers behave as the first's would have.
    let config = Config::builder().nodes(1).seed(1).durable(true).build().unwrap();
    let mut sim = Sim::new(Alarms, config);
    sim.request(0, ()).unwrap();
    sim.crash_at(0, 15.0).unwrap();
    sim.run_until(16.0).unwrap();
    sim.recover(0).unwrap();
    sim.request(0, ()).unwrap();
    sim.run();
    // Before the crash: nothing fired (timer 1 cancelled, re-set for 40 ms; 2 at 20 ms).
    // After the recovery: the second request's timers 2 and 1 fire.
    assert_eq!(sim.state(NodeId(0)).unwrap(), &[2, 1]);
}
