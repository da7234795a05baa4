//! Where the graph's hosts go: on a circle, so that every pair of hosts can be
//! joined without passing through a third, whatever the edges' directions (movement
//! graphs have cycles, which a layered layout would have to break).

/// A point in SVG user units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Rightwards.
    pub x: f64,
    /// Downwards.
    pub y: f64,
}

/// Room left around the circle for the hosts' labels.
pub const MARGIN: f64 = 170.0;

/// Arc length per host, so that 50 hosts' circles and labels do not touch.
const SPACING: f64 = 64.0;

/// Positions of `n` hosts and the side of the square canvas holding them.
pub fn circle(n: usize) -> (Vec<Point>, f64) {
    let radius = (n as f64 * SPACING / std::f64::consts::TAU).max(140.0);
    let centre = radius + MARGIN;
    let points = (0..n)
        .map(|i| {
            if n == 1 {
                return Point {
                    x: centre,
                    y: centre,
                };
            }
            // From the top, clockwise.
            let angle = std::f64::consts::TAU * i as f64 / n as f64 - std::f64::consts::FRAC_PI_2;
            Point {
                x: centre + radius * angle.cos(),
                y: centre + radius * angle.sin(),
            }
        })
        .collect();
    (points, 2.0 * centre)
}

/// The control point of the quadratic curve from `a` to `b`, bent to the right of
/// the direction of travel by `bend` times the distance: A->B and B->A then curve on
/// opposite sides and stay apart.
pub fn control(a: Point, b: Point, bend: f64) -> Point {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    Point {
        x: (a.x + b.x) / 2.0 - dy * bend,
        y: (a.y + b.y) / 2.0 + dx * bend,
    }
}

/// The point `by` units from `from` towards `to` (to stop a line at a node's rim).
pub fn towards(from: Point, to: Point, by: f64) -> Point {
    let (dx, dy) = (to.x - from.x, to.y - from.y);
    let length = (dx * dx + dy * dy).sqrt();
    if length <= by || length == 0.0 {
        return from;
    }
    Point {
        x: from.x + dx / length * by,
        y: from.y + dy / length * by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifty_hosts_keep_their_distance() {
        let (points, side) = circle(50);
        for (i, a) in points.iter().enumerate() {
            assert!(a.x > MARGIN - 1.0 && a.x < side - MARGIN + 1.0);
            for b in &points[i + 1..] {
                let d = ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt();
                assert!(d > 60.0, "{a:?} {b:?} {d}");
            }
        }
    }

    #[test]
    fn opposite_directions_bend_apart() {
        let (a, b) = (Point { x: 0.0, y: 0.0 }, Point { x: 100.0, y: 0.0 });
        assert!(control(a, b, 0.2).y > 0.0);
        assert!(control(b, a, 0.2).y < 0.0);
        assert_eq!(towards(a, b, 10.0), Point { x: 10.0, y: 0.0 });
    }
}
