// Tests for the HTTP/1.1 response serializer: framing by status, and no header injection.
#include "http/response_writer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace http {
namespace {

std::string serialize(const app::Response& response, bool keep_alive = true) {
  std::string out;
  write_response(response, keep_alive, out);
  return out;
}

TEST(ResponseWriter, FramesABodyWithContentLength) {
  app::Response response;
  response.set("Content-Type", "application/json");
  response.body = R"({"count":7})";
  EXPECT_EQ(serialize(response),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
            "Connection: keep-alive\r\n\r\n{\"count\":7}");
  EXPECT_NE(serialize(response, false).find("Connection: close\r\n\r\n"), std::string::npos);
}

TEST(ResponseWriter, AnAnswerToHeadStatesTheLengthAndLeavesTheBodyOut) {
  app::Response response;
  response.body = R"({"count":7})";
  response.head = true;
  EXPECT_EQ(serialize(response),
            "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: keep-alive\r\n\r\n");
}

TEST(ResponseWriter, NoContentLengthOn204And304) {
  for (int status : {204, 304}) {
    app::Response response;
    response.status = status;
    response.set("Access-Control-Max-Age", "86400");
    const std::string out = serialize(response);
    EXPECT_EQ(out.find("Content-Length"), std::string::npos) << out;
    EXPECT_TRUE(out.ends_with("Connection: keep-alive\r\n\r\n")) << out;
  }
  app::Response empty;
  empty.status = 404;
  EXPECT_NE(serialize(empty).find("Content-Length: 0\r\n"), std::string::npos);
}

TEST(ResponseWriter, DropsHeadersThatWouldInjectFields) {
  app::Response response;
  response.set("Access-Control-Allow-Origin", "https://a.example\r\nSet-Cookie: x=1");
  response.set("X-Bad\nName", "v");
  response.set("Vary", "Origin");
  const std::string out = serialize(response);
  EXPECT_EQ(out.find("Set-Cookie"), std::string::npos) << out;
  EXPECT_EQ(out.find("X-Bad"), std::string::npos) << out;
  EXPECT_EQ(out.find("a.example"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\nVary: Origin\r\n"), std::string::npos) << out;
}

TEST(ResponseWriter, AStreamedAnswerIsChunkedForHttp11AndPlainForHttp10) {
  app::Response response;
  response.set("Content-Type", "text/event-stream; charset=utf-8");
  response.body = "retry: 3000\n\n";  // 13 bytes: "d" in hex
  std::string out;
  write_stream_head(response, true, out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nd\r\nretry: 3000\n\n\r\n");
  write_stream_head(response, false, out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
            "Connection: close\r\n\r\nretry: 3000\n\n");
  write_chunk(std::string(300, 'x'), out);  // 300 bytes: "12c"
  EXPECT_EQ(out, "12c\r\n" + std::string(300, 'x') + "\r\n");
  EXPECT_EQ(kLastChunk, "0\r\n\r\n");
}

TEST(ResponseWriter, ReasonPhrases) {
  EXPECT_EQ(reason_phrase(503), "Service Unavailable");
  EXPECT_EQ(reason_phrase(599), "Unknown");
}

}  // namespace
}  // namespace http
