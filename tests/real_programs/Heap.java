// A program whose runtime nobody here wrote, for snapdump's real-program tests
// (tests/real_programs/real_programs_test.cpp): Debian's OpenJDK 17 with threads blocked in the
// JVM's different ways (sleep, Object.wait, LockSupport.park, a queue, a semaphore, socket accept
// and read) and a 512 MiB heap, filled until the collector has run, holding a marker string.
// Run as a single-file program: java -Xms512m -Xmx512m Heap.java MARKER
//
// The protocol is snapdump_target's (tests/support/target_process.h), so TargetProcess drives it:
//   stdout  one JSON line when every thread is blocked:
//           {"ready": true, "pid", "runtime", "blocked": [names], "markers": {text: copies},
//            "collections"}, then one JSON answer per command, nothing else.
//   stdin   "reset"      forget the longest heartbeat gap so far     -> {"reset": true}
//           "heartbeat"  the heartbeat thread's count and longest gap -> {"beats", "max_stall_ns"}
//           "poke"       wake every blocked thread through its own blocking call; each answers and
//                        blocks again                                 -> {"alive": [names]}
//           "exit" or end of input: exit 0.
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

public class Heap {
  // Live data: 128 MiB of the 512 MiB heap in 256 KiB chunks (under half a G1 region, so not
  // humongous objects), each stamped with the marker.
  private static final List<byte[]> KEPT = new ArrayList<>();
  private static final BlockingQueue<String> ANSWERS = new ArrayBlockingQueue<>(64);
  private static volatile int poked = 0;

  // The heartbeat: a thread that ticks every millisecond and keeps its longest gap (System.nanoTime
  // is CLOCK_MONOTONIC, so a stop of the process counts though no tick ran in it).
  private static final Object BEAT = new Object();
  private static long beats = 0;
  private static long maxGap = 0;
  private static long last = System.nanoTime();

  interface Body {
    void run() throws Exception;
  }

  // A daemon thread named `name` (the JVM names the OS thread the same, up to 15 bytes), which
  // counts down `blocked` once and then runs `body` forever, answering after each return.
  static void blockedThread(String name, List<String> names, CountDownLatch blocked, Body body) {
    names.add(name);
    Thread t = new Thread(() -> {
      blocked.countDown();
      try {
        for (;;) {
          body.run();
          ANSWERS.put(name);
        }
      } catch (Exception e) {
        e.printStackTrace();
        System.exit(1);
      }
    }, name);
    t.setDaemon(true);
    t.start();
  }

  static long collections() {
    long total = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans())
      total += Math.max(0, gc.getCollectionCount());
    return total;
  }

  static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: java -Xms512m -Xmx512m Heap.java MARKER");
      System.exit(2);
    }
    // The marker under a prefix the command line does not hold, built at run time: finding it in
    // a dump proves the heap was dumped, not the argument strings.
    String markerText = "snapdump-java-heap<" + args[0] + ">";
    byte[] marker = markerText.getBytes(StandardCharsets.US_ASCII);
    // Keep every third chunk, drop the rest, until 128 MiB are kept: the collector has to run to
    // make room, and what it keeps is spread over the heap.
    for (int i = 0; KEPT.size() < 128 * 4; i++) {
      byte[] chunk = new byte[256 << 10];
      for (int at = 0; at < chunk.length; at += 4096) chunk[at] = (byte) i;
      System.arraycopy(marker, 0, chunk, 64, marker.length);
      if (i % 3 == 0) KEPT.add(chunk);
    }
    long collections = collections();
    if (collections == 0) {
      System.err.println("the collector never ran");
      System.exit(1);
    }

    Thread heartbeat = new Thread(() -> {
      for (;;) {
        try {
          Thread.sleep(1);
        } catch (InterruptedException e) {
          return;
        }
        long now = System.nanoTime();
        synchronized (BEAT) {
          maxGap = Math.max(maxGap, now - last);
          last = now;
          beats++;
        }
      }
    }, "sd-heartbeat");
    heartbeat.setDaemon(true);
    heartbeat.start();

    final Object monitor = new Object();
    final BlockingQueue<Integer> queue = new ArrayBlockingQueue<>(16);
    final Semaphore semaphore = new Semaphore(0);
    final ServerSocket server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
    final ServerSocket pairServer = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    final Socket writeSide = new Socket(InetAddress.getLoopbackAddress(), pairServer.getLocalPort());
    final Socket readSide = pairServer.accept();
    final InputStream readStream = readSide.getInputStream();
    final OutputStream writeStream = writeSide.getOutputStream();
    final List<Thread> parked = new ArrayList<>();
    final List<String> names = new ArrayList<>();
    CountDownLatch blocked = new CountDownLatch(8);

    blockedThread("sd-sleep", names, blocked, () -> {
      for (int seen = poked; seen == poked;) Thread.sleep(50);
    });
    blockedThread("sd-wait", names, blocked, () -> {
      synchronized (monitor) {
        for (int seen = poked; seen == poked;) monitor.wait();
      }
    });
    blockedThread("sd-timed-wait", names, blocked, () -> {
      synchronized (monitor) {
        for (int seen = poked; seen == poked;) monitor.wait(100);
      }
    });
    blockedThread("sd-park", names, blocked, () -> {
      for (int seen = poked; seen == poked;) LockSupport.park();
    });
    blockedThread("sd-queue", names, blocked, queue::take);
    blockedThread("sd-semaphore", names, blocked, semaphore::acquire);
    blockedThread("sd-accept", names, blocked, () -> {
      try (Socket s = server.accept()) {
        s.getInputStream().read();
      }
    });
    blockedThread("sd-read", names, blocked, () -> {
      if (readStream.read() < 0) throw new java.io.IOException("the socket pair closed");
    });
    blocked.await();
    for (Thread t : Thread.getAllStackTraces().keySet())
      if (t.getName().equals("sd-park")) parked.add(t);
    Thread.sleep(50);  // let the threads reach their blocking calls

    StringBuilder ready = new StringBuilder("{\"ready\": true, \"pid\": " + ProcessHandle.current().pid());
    ready.append(", \"runtime\": ").append(quote("java " + System.getProperty("java.vm.version")));
    ready.append(", \"blocked\": [");
    for (int i = 0; i < names.size(); i++) ready.append(i > 0 ? ", " : "").append(quote(names.get(i)));
    ready.append("], \"markers\": {").append(quote(markerText)).append(": ").append(KEPT.size()).append("}");
    ready.append(", \"collections\": ").append(collections).append("}");
    System.out.println(ready);
    System.out.flush();

    // The main thread: blocked in read(2) on standard input between commands.
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
    for (String line; (line = in.readLine()) != null;) {
      String command = line.trim();
      String answer;
      if (command.equals("reset")) {
        synchronized (BEAT) {
          maxGap = 0;
          last = System.nanoTime();
        }
        answer = "{\"reset\": true}";
      } else if (command.equals("heartbeat")) {
        synchronized (BEAT) {
          answer = "{\"beats\": " + beats + ", \"max_stall_ns\": " + maxGap + "}";
        }
      } else if (command.equals("poke")) {
        synchronized (monitor) {
          poked++;
          monitor.notifyAll();
        }
        for (Thread t : parked) LockSupport.unpark(t);
        queue.put(poked);
        semaphore.release();
        try (Socket c = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
          c.getOutputStream().write('x');
        }
        writeStream.write('x');
        writeStream.flush();
        TreeSet<String> alive = new TreeSet<>();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (alive.size() < names.size()) {
          String name = ANSWERS.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          if (name == null) break;
          alive.add(name);
        }
        StringBuilder list = new StringBuilder("{\"alive\": [");
        int i = 0;
        for (String name : alive) list.append(i++ > 0 ? ", " : "").append(quote(name));
        answer = list.append("]}").toString();
      } else if (command.equals("exit")) {
        break;
      } else {
        answer = "{\"error\": " + quote("unknown command " + command) + "}";
      }
      System.out.println(answer);
      System.out.flush();
    }
    System.exit(0);
  }
}
