using System.Net;

namespace Tollgate.Tests;

/// <summary>Shared handling of the loopback <see cref="HttpListener"/>s test fixtures serve from.</summary>
internal static class LoopbackListener
{
    /// <summary>
    /// Stops and closes a listener. On Linux, HttpListener looks its port up again while closing and throws "Address
    /// already in use" when another process has bound that port since; the listener is closed all the same, so that
    /// is not a test failure.
    /// </summary>
    public static void Close(HttpListener listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        try
        {
            if (listener.IsListening)
            {
                listener.Stop();
            }
            listener.Close();
        }
        catch (HttpListenerException)
        {
        }
    }
}
