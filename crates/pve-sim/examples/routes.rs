//! Prints the simulator's route table, one method per line with its parameters (`?` marks an
//! optional one), and the number of methods served: `cargo run -p pve-sim --example routes`.

fn main() {
    let routes = pve_sim::routes::all();
    for r in routes {
        let params: Vec<String> = r
            .params
            .iter()
            .map(|p| format!("{}{}", p.name, if p.optional { "?" } else { "" }))
            .collect();
        println!("{:6} {} [{}]", r.method.as_str(), r.path, params.join(" "));
    }
    println!("{} methods", routes.len());
}
