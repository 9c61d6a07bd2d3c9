using System.Net;
using System.Net.Sockets;

namespace GroupPay.Testing;

/// <summary>Free TCP ports on 127.0.0.1, never the same one twice in this process.</summary>
public static class FreePort
{
    private static readonly HashSet<int> Given = [];

    public static int Get()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            lock (Given)
            {
                if (Given.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
